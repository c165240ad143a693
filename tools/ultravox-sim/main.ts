// `npm run ultravox:sim`: the simulator as a process. Environment variables are read here only.

import { startUltravoxSim } from './server';
import { SimOptions, SimTimings } from './types';

function numberFromEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`${name} must be a non-negative number, got "${raw}"\n`);
    process.exit(1);
  }
  return value;
}

const TIMING_ENV: Record<keyof SimTimings, string> = {
  joinDelayMs: 'ULTRAVOX_SIM_JOIN_DELAY_MS',
  turnDelayMs: 'ULTRAVOX_SIM_TURN_DELAY_MS',
  endDelayMs: 'ULTRAVOX_SIM_END_DELAY_MS',
  billedDelayMs: 'ULTRAVOX_SIM_BILLED_DELAY_MS',
  joinTimeoutMs: 'ULTRAVOX_SIM_JOIN_TIMEOUT_MS',
  summaryDelayMs: 'ULTRAVOX_SIM_SUMMARY_DELAY_MS',
  webhookRetryDelayMs: 'ULTRAVOX_SIM_WEBHOOK_RETRY_DELAY_MS',
};

function optionsFromEnv(): Partial<SimOptions> {
  const timings: Partial<SimTimings> = {};
  for (const [timing, name] of Object.entries(TIMING_ENV) as [keyof SimTimings, string][]) {
    const value = numberFromEnv(name);
    if (value !== undefined) timings[timing] = value;
  }
  // Unset variables stay undefined: startUltravoxSim treats undefined as "use the default".
  return {
    port: numberFromEnv('ULTRAVOX_SIM_PORT') ?? 4100,
    host: process.env.ULTRAVOX_SIM_HOST || '127.0.0.1',
    maxConcurrentCalls: numberFromEnv('ULTRAVOX_SIM_MAX_CONCURRENT_CALLS'),
    timeScale: numberFromEnv('ULTRAVOX_SIM_TIME_SCALE'),
    timings,
    webhookRetries: numberFromEnv('ULTRAVOX_SIM_WEBHOOK_RETRIES'),
    webhookTimeoutMs: numberFromEnv('ULTRAVOX_SIM_WEBHOOK_TIMEOUT_MS'),
    messagesPageSize: numberFromEnv('ULTRAVOX_SIM_MESSAGES_PAGE_SIZE'),
    recordingBytes: numberFromEnv('ULTRAVOX_SIM_RECORDING_BYTES'),
    logger: process.env.ULTRAVOX_SIM_LOG === 'true',
  };
}

async function main(): Promise<void> {
  const sim = await startUltravoxSim(optionsFromEnv());
  process.stdout.write(`${JSON.stringify({ ultravox_sim: 'listening', url: sim.url })}\n`);
  const shutdown = (): void => {
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `ultravox-sim failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
