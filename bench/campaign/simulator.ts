/**
 * The Ultravox simulator as its own process (`npm run ultravox:sim`), configured for campaigns: a fast
 * time scale so calls end quickly, and a per-account live-call cap well above the campaign's. Its
 * control API is read afterwards for when each call was created and ended (tools/ultravox-sim/README.md).
 */
import { request } from 'undici';
import type { SimCallsView } from '../../tools/ultravox-sim/server';
import { AppProcess, startSimulator } from '../common/processes';

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

export function startCampaignSimulator(timeScale: number, maxConcurrentCalls: number): Promise<AppProcess> {
  return startSimulator({
    ULTRAVOX_SIM_TIME_SCALE: String(timeScale),
    ULTRAVOX_SIM_MAX_CONCURRENT_CALLS: String(maxConcurrentCalls),
  });
}

export async function simCalls(simUrl: string): Promise<SimCallsView> {
  const res = await request(`${simUrl}/_sim/calls`);
  if (res.statusCode !== 200) throw new Error(`GET /_sim/calls: ${res.statusCode}`);
  return (await res.body.json()) as SimCallsView;
}
