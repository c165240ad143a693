/**
 * Child processes of the benchmarks: the Switchboard API as
 * `npm run start:prod` runs it, an optional worker, and the Ultravox simulator — each its own process,
 * so the load generator never shares an event loop with what it measures.
 */
import { ChildProcess, fork, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { MAIN_JS, type BenchWorld } from './world';

/** dist/tools/ultravox-sim/main.js (`npm run ultravox:sim`). */
const SIMULATOR_JS = join(__dirname, '..', '..', 'tools', 'ultravox-sim', 'main.js');

/** A child process whose output is kept (the last 64 KB) for error reports. */
export interface Proc {
  process: ChildProcess;
  pid: number;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export function track(child: ChildProcess): Proc {
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-65_536));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
  });
  if (child.pid === undefined) throw new Error(`could not start ${child.spawnfile}`);
  return {
    process: child,
    pid: child.pid,
    output: () => output,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** A TCP port that was free a moment ago (for the API's PORT). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `url` until it answers 200; fails early when `proc` exits. */
export async function waitForHttp(url: string, proc: Proc, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.process.exitCode !== null) throw new Error(`${url}: process exited\n${proc.output()}`);
    try {
      const res = await request(url, { headersTimeout: 2_000, bodyTimeout: 2_000 });
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url}: no 200 within ${timeoutMs} ms\n${proc.output()}`);
    await sleep(100);
  }
}

export interface AppProcess extends Proc {
  url: string;
}

/**
 * `node --heap-growing-percent=100 [nodeArgs] dist/src/main.js` (as `npm run start:prod` starts it) with
 * exactly the world's environment plus `env` (APP_ROLE, PORT…).
 * For role api, resolves once GET /health answers 200.
 */
export async function startSwitchboard(
  world: BenchWorld,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<AppProcess> {
  const full: Record<string, string> = { PATH: process.env.PATH ?? '', ...world.env, ...env };
  const proc = track(
    spawn(process.execPath, ['--heap-growing-percent=100', ...nodeArgs, MAIN_JS], {
      env: full,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const url = `http://127.0.0.1:${full.PORT ?? '3000'}`;
  if (full.APP_ROLE !== 'worker') {
    try {
      await waitForHttp(`${url}/health`, proc);
    } catch (err) {
      await proc.stop(1_000);
      throw err;
    }
  }
  return { ...proc, url };
}

/**
 * `npm run ultravox:sim` on a random port; resolves with its base URL. `extraEnv` sets its options
 * (tools/ultravox-sim/options.ts), e.g. ULTRAVOX_SIM_TIME_SCALE.
 */
export async function startSimulator(extraEnv: Record<string, string> = {}): Promise<AppProcess> {
  const env = {
    PATH: process.env.PATH ?? '',
    ULTRAVOX_SIM_PORT: '0',
    ULTRAVOX_SIM_HOST: '127.0.0.1',
    ...extraEnv,
  };
  const proc = track(spawn(process.execPath, [SIMULATOR_JS], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const line = buffered.split('\n').find((l) => l.includes('"ultravox_sim"'));
      if (!line) return;
      proc.process.stdout?.off('data', onData);
      resolve((JSON.parse(line) as { url: string }).url);
    };
    proc.process.stdout?.on('data', onData);
    proc.process.once('exit', (code) => reject(new Error(`simulator exited (${code})\n${proc.output()}`)));
  });
  return { ...proc, url };
}

/** Forks one of the bench's own programs (dist/bench/<relative>.js) with an IPC channel. */
export function forkProgram(
  relative: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Proc {
  const file = join(__dirname, '..', `${relative}.js`);
  return track(
    fork(file, [], {
      env: { PATH: process.env.PATH ?? '', ...env },
      execArgv: nodeArgs,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
  );
}

/** The first IPC message of `proc` that satisfies `match`. */
export function messageFrom<T>(proc: Proc, match: (m: T) => boolean, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T) => {
      if (!match(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`child exited (${code}) while awaited:\n${proc.output()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no message from child within ${timeoutMs} ms:\n${proc.output()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      proc.process.off('message', onMessage);
      proc.process.off('exit', onExit);
    };
    proc.process.on('message', onMessage);
    proc.process.on('exit', onExit);
  });
}
