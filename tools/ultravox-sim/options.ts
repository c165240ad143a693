import { SimOptions, SimTimings } from './types';

/** Defaults at timeScale 1: the answered demo call takes about six seconds end to end. */
const DEFAULT_TIMINGS: SimTimings = {
  joinDelayMs: 1000,
  turnDelayMs: 500,
  endDelayMs: 500,
  billedDelayMs: 2000,
  joinTimeoutMs: 4000,
  summaryDelayMs: 3000,
  webhookRetryDelayMs: 250,
};

export interface ResolvedOptions extends Omit<SimOptions, 'timings'> {
  timings: SimTimings;
}

export function resolveOptions(options: Partial<SimOptions> = {}): ResolvedOptions {
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale >= 0)) throw new Error(`timeScale must be a non-negative number, got ${timeScale}`);
  const scaled: SimTimings = { ...DEFAULT_TIMINGS };
  for (const name of Object.keys(scaled) as (keyof SimTimings)[]) {
    scaled[name] = Math.round(scaled[name] * timeScale);
  }
  return {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    maxConcurrentCalls: options.maxConcurrentCalls ?? 5,
    timeScale,
    timings: { ...scaled, ...options.timings },
    webhookRetries: options.webhookRetries ?? 3,
    webhookTimeoutMs: options.webhookTimeoutMs ?? 5000,
    // Small on purpose: a client that does not follow `next` loses transcript lines on ordinary calls.
    messagesPageSize: options.messagesPageSize ?? 20,
    recordingBytes: options.recordingBytes ?? null,
    logger: options.logger ?? false,
  };
}
