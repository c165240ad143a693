/**
 * The Ultravox simulator as its own process (`npm run ultravox:sim`), configured for campaigns: a fast
 * time scale so calls end quickly, and a per-account live-call cap well above the campaign's. Its
 * control API is read afterwards for when each call was created and ended (tools/ultravox-sim/README.md).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { request } from 'undici';
import type { SimCallsView } from '../../tools/ultravox-sim/server';
import { AppProcess, track } from '../common/processes';

const SIMULATOR_JS = join(__dirname, '..', '..', 'tools', 'ultravox-sim', 'main.js');

/** Default simulator timings at time scale 1 (tools/ultravox-sim/options.ts). */
const JOIN_DELAY_MS = 1_000;
const TURN_DELAY_MS = 500;
const END_DELAY_MS = 500;
/** The answered scenario's script: greeting, six lines, goodbye (tools/ultravox-sim/scenarios.ts). */
const ANSWERED_MESSAGES = 8;

/**
 * How long the simulator keeps an answered call live at `timeScale`: join delay, then a turn delay
 * between each of its messages, then the end delay — the floor no dispatcher can go below.
 */
export function answeredCallMs(timeScale: number): number {
  const scaled = (ms: number) => Math.round(ms * timeScale);
  return scaled(JOIN_DELAY_MS) + (ANSWERED_MESSAGES - 1) * scaled(TURN_DELAY_MS) + scaled(END_DELAY_MS);
}

export async function startCampaignSimulator(
  timeScale: number,
  maxConcurrentCalls: number,
): Promise<AppProcess> {
  const env = {
    PATH: process.env.PATH ?? '',
    ULTRAVOX_SIM_PORT: '0',
    ULTRAVOX_SIM_HOST: '127.0.0.1',
    ULTRAVOX_SIM_TIME_SCALE: String(timeScale),
    ULTRAVOX_SIM_MAX_CONCURRENT_CALLS: String(maxConcurrentCalls),
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

export async function simCalls(simUrl: string): Promise<SimCallsView> {
  const res = await request(`${simUrl}/_sim/calls`);
  if (res.statusCode !== 200) throw new Error(`GET /_sim/calls: ${res.statusCode}`);
  return (await res.body.json()) as SimCallsView;
}
