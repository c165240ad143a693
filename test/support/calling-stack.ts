import { startUltravoxSim, UltravoxSim } from '../../tools/ultravox-sim/server';
import type { SimOptions } from '../../tools/ultravox-sim/types';
import { Receiver } from './receiver';
import { startTestApp, TestApp } from './test-app';

/** What a spec that places calls runs against: the simulator, the app it is wired to, a receiver. */
export interface CallingStack {
  sim: UltravoxSim;
  t: TestApp;
  receiver: Receiver;
}

/**
 * Starts the Ultravox simulator, the app (reachable, so the simulator's webhooks arrive; calls swept
 * every 500 ms unless `env` says otherwise) and a webhook receiver.
 */
export async function startCallingStack(
  simOptions: Partial<SimOptions>,
  env: Record<string, string> = {},
): Promise<CallingStack> {
  const sim = await startUltravoxSim(simOptions);
  const t = await startTestApp(
    { ULTRAVOX_API_BASE_URL: sim.url, CALLS_SWEEP_INTERVAL_MS: '500', ...env },
    { reachable: true },
  );
  const receiver = await new Receiver().start();
  return { sim, t, receiver };
}

export async function stopCallingStack({ sim, t, receiver }: CallingStack): Promise<void> {
  await receiver.close();
  await t.close();
  await sim.close();
}
