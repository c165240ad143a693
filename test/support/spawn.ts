import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { QUEUES } from '../../src/common/queues';
import { TEST_REDIS_URL } from './env';
import { waitFor } from './wait';

/** The built programs, as `npm run start:prod`, `npm run cli` and `npm run migration:run` start them. */
const DIST = join(__dirname, '..', '..', 'dist', 'src');
export const MAIN_JS = join(DIST, 'main.js');
export const CLI_JS = join(DIST, 'cli.js');
export const MIGRATE_JS = join(DIST, 'database', 'migrate.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the process had to be killed because it outlived its time limit. */
  timedOut: boolean;
}

export interface NodeProcess {
  child: ChildProcess;
  /** Resolves once the process has exited and its output is complete. */
  exited: Promise<Exit>;
  running(): boolean;
  output(): { stdout: string; stderr: string };
  /** SIGTERM, then SIGKILL if it is still alive after `graceMs`; resolves with how it ended. */
  stop(graceMs?: number): Promise<Exit>;
}

export interface SpawnedServer extends NodeProcess {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
}

/** A child environment: PATH plus exactly the variables given, nothing inherited from the test runner. */
export function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', ...env };
}

/** Starts `node <script> <args>` with exactly `env`, collecting its output. */
export function spawnNode(script: string, args: string[], env: Record<string, string>): NodeProcess {
  const flags = script === MAIN_JS ? ['--heap-growing-percent=100'] : []; // as `npm run start:prod`
  const child = spawn(process.execPath, [...flags, script, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  let done = false;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.on('error', (err) => {
      done = true;
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}${err.message}\n`, timedOut });
    });
  });
  const stop = async (graceMs = 10_000): Promise<Exit> => {
    if (done) return exited;
    child.kill('SIGTERM');
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, graceMs);
    const exit = await exited;
    clearTimeout(killer);
    return exit;
  };
  return { child, exited, running: () => !done, output: () => ({ stdout, stderr }), stop };
}

/**
 * Starts `node dist/src/main.js` as a worker process (APP_ROLE=worker) of the app with this environment.
 * Its /metrics and /health listen on a port the system picks (METRICS_PORT=0) unless `overrides` names one,
 * so workers of parallel specs never compete for the default 9464.
 */
export function spawnWorker(
  env: Record<string, string>,
  overrides: Record<string, string> = {},
): NodeProcess {
  return spawnNode(MAIN_JS, [], childEnv({ ...env, APP_ROLE: 'worker', METRICS_PORT: '0', ...overrides }));
}

/** Runs `node <script> <args>` to completion; killed (and `timedOut`) if it runs longer than `timeoutMs`. */
export async function runNode(
  script: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<Exit> {
  const proc = spawnNode(script, args, env);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void proc.stop(1_000);
  }, timeoutMs);
  const exit = await proc.exited;
  clearTimeout(timer);
  return { ...exit, timedOut: exit.timedOut || timedOut };
}

/** A TCP port that was free a moment ago (main.js logs, but does not report, the port it bound). */
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

/** Polls GET /health until it answers 200 (true), the process exits (false) or `timeoutMs` passes (throws). */
export async function waitUntilHealthy(url: string, proc: NodeProcess, timeoutMs = 30_000): Promise<boolean> {
  const healthy = async (): Promise<boolean> => {
    try {
      return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })).status === 200;
    } catch {
      return false; // not listening yet
    }
  };
  const state = await waitFor(
    async () => (!proc.running() ? 'exited' : (await healthy()) ? 'healthy' : null),
    timeoutMs,
    `${url}/health to answer 200`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}:\n${proc.output().stderr}`);
  });
  return state === 'healthy';
}

/** Starts `node dist/src/main.js` on a free loopback port with exactly `env`, and waits until it is healthy. */
export async function startServer(env: Record<string, string>, timeoutMs = 30_000): Promise<SpawnedServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawnNode(MAIN_JS, [], { ...env, HOST: '127.0.0.1', PORT: String(port) });
  try {
    if (!(await waitUntilHealthy(url, proc, timeoutMs))) {
      const exit = await proc.exited;
      throw new Error(`main.js exited (${exit.code ?? exit.signal}) before it was healthy:\n${exit.stderr}`);
    }
  } catch (err) {
    await proc.stop(2_000);
    throw err;
  }
  return { ...proc, url };
}

/** Deletes every Redis key a spawned app wrote under its REDIS_PREFIX. */
export async function clearRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const stream = redis.scanStream({ match: `${prefix}:*`, count: 500 });
    for await (const keys of stream as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

/** Waits until a spawned app's BullMQ workers (its REDIS_PREFIX) are connected to Redis: its workers are up. */
export async function workersConnected(redisPrefix: string, timeoutMs = 30_000): Promise<void> {
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUES.callDial, { connection, prefix: `${redisPrefix}:bull` });
  try {
    await waitFor(async () => (await queue.getWorkersCount()) > 0, timeoutMs, 'the workers to connect');
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
