import { ConfigValidationError, EnvironmentVariables, validateEnvironment } from './env.schema';

export type AppRole = 'api' | 'worker' | 'all';

/** Typed configuration, built once at boot from the validated environment. */
export interface AppConfig {
  role: AppRole;
  port: number;
  host: string;
  databaseUrl: string;
  runMigrations: boolean;
  redisUrl: string;
  redisPrefix: string;
  /** Fail-fast bounds while Postgres or Redis is unreachable (CONTRACT §4: 503, never a hanging request). */
  timeouts: { redisMs: number; databaseConnectMs: number; databaseStatementMs: number };
  publicBaseUrl: string;
  jwt: { secret?: string; jwksUrl?: string; audience: string };
  /** Current key first; older keys are still accepted for decryption. */
  encryptionKeys: Buffer[];
  /** `webhookCheckIntervalMs`: how often each registered Ultravox webhook and account limit is checked. */
  ultravox: { baseUrl: string; timeoutMs: number; webhookCheckIntervalMs: number };
  webhooks: {
    retryDelaysMs: number[];
    /** Pauses of an unreachable endpoint, growing; the last repeats. */
    pauseDelaysMs: number[];
    disableAfterMs: number;
    timeoutMs: number;
    allowPrivateUrls: boolean;
    concurrency: number;
    endpointMaxInFlight: number;
    sweepIntervalMs: number;
  };
  /**
   * `reconcileAfterMs`: a live call silent this long is read back from Ultravox (CONTRACT §6 lifecycle);
   * `summaryWaitMs`: how long call.completed waits for a summary Ultravox writes after call.ended.
   */
  calls: {
    maxConcurrentPerAgency: number;
    sweepIntervalMs: number;
    reconcileAfterMs: number;
    summaryWaitMs: number;
  };
  campaigns: { tickIntervalMs: number };
  /** `linkTtlMs`: how long a signed `recording_url` works (RECORDING_LINK_TTL). */
  recordings: { linkTtlMs: number };
  retention: { days: number; intervalMs: number };
  apiRateLimitPerMinute: number;
  bullBoard?: { username: string; password: string };
  /** Prometheus metrics (CONTRACT §8): `token` guards /metrics; `port` is a worker-only process's listener. */
  metrics: { enabled: boolean; token?: string; port: number };
  logLevel: string;
}

export const APP_CONFIG = Symbol('APP_CONFIG');

/** CONTRACT §2; also the default of `npm run migration:run` and the TypeORM CLI. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/switchboard';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s,5m,30m" → [30000, 300000, 1800000]; a bare number is seconds. */
export function parseDurationList(value: string): number[] {
  return value.split(',').map((part) => {
    const match = /^\s*(\d+)(ms|s|m|h|d)?\s*$/.exec(part);
    if (!match) throw new ConfigValidationError(`Invalid duration "${part}"`);
    return Number(match[1]) * UNIT_MS[match[2] ?? 's'];
  });
}

/** A duration that must not be zero (it paces a timer). */
function positiveDuration(name: string, value: string): number {
  const ms = parseDurationList(value)[0];
  if (ms < 100) throw new ConfigValidationError(`Invalid configuration: ${name}: must be at least 100ms`);
  return ms;
}

function parseKey(name: string, value: string): Buffer {
  const key = Buffer.from(value.trim(), 'base64');
  if (key.length !== 32) {
    throw new ConfigValidationError(`Invalid configuration: ${name}: must be base64 of exactly 32 bytes`);
  }
  return key;
}

export function buildAppConfig(raw: Record<string, string | undefined> = process.env): AppConfig {
  const env: EnvironmentVariables = validateEnvironment(raw);
  const port = env.PORT ?? 3000;
  const previous = (env.ENCRYPTION_KEYS_PREVIOUS ?? '')
    .split(',')
    .filter((k) => k.trim() !== '')
    .map((k) => parseKey('ENCRYPTION_KEYS_PREVIOUS', k));
  return {
    role: env.APP_ROLE ?? 'all',
    port,
    host: env.HOST ?? '0.0.0.0',
    databaseUrl: env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    runMigrations: env.DB_MIGRATIONS_RUN ?? true,
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisPrefix: env.REDIS_PREFIX ?? 'switchboard',
    timeouts: {
      redisMs: env.REDIS_TIMEOUT_MS ?? 2_000,
      databaseConnectMs: env.DATABASE_CONNECT_TIMEOUT_MS ?? 3_000,
      databaseStatementMs: env.DATABASE_STATEMENT_TIMEOUT_MS ?? 30_000,
    },
    publicBaseUrl: (env.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    jwt: { secret: env.JWT_SECRET, jwksUrl: env.JWT_JWKS_URL, audience: env.JWT_AUDIENCE ?? 'authenticated' },
    encryptionKeys: [parseKey('ENCRYPTION_KEY', env.ENCRYPTION_KEY), ...previous],
    ultravox: {
      baseUrl: (env.ULTRAVOX_API_BASE_URL ?? 'https://api.ultravox.ai').replace(/\/+$/, ''),
      timeoutMs: env.ULTRAVOX_TIMEOUT_MS ?? 10_000,
      webhookCheckIntervalMs: positiveDuration(
        'ULTRAVOX_WEBHOOK_CHECK_INTERVAL',
        env.ULTRAVOX_WEBHOOK_CHECK_INTERVAL ?? '5m',
      ),
    },
    webhooks: {
      retryDelaysMs: parseDurationList(env.WEBHOOK_RETRY_DELAYS ?? '30s,5m,30m'),
      pauseDelaysMs: parseDurationList(env.WEBHOOK_PAUSE_DELAYS ?? '10s,30s,1m,5m,15m'),
      disableAfterMs: parseDurationList(env.WEBHOOK_DISABLE_AFTER ?? '5d')[0],
      timeoutMs: env.WEBHOOK_TIMEOUT_MS ?? 10_000,
      allowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS ?? false,
      concurrency: env.WEBHOOK_DELIVERY_CONCURRENCY ?? 200,
      endpointMaxInFlight: env.WEBHOOK_ENDPOINT_MAX_IN_FLIGHT ?? 10,
      sweepIntervalMs: env.WEBHOOK_SWEEP_INTERVAL_MS ?? 10_000,
    },
    calls: {
      maxConcurrentPerAgency: env.MAX_CONCURRENT_CALLS_PER_AGENCY ?? 10,
      sweepIntervalMs: env.CALLS_SWEEP_INTERVAL_MS ?? 5_000,
      reconcileAfterMs: parseDurationList(env.CALLS_RECONCILE_AFTER ?? '2m')[0],
      summaryWaitMs: parseDurationList(env.CALLS_SUMMARY_WAIT ?? '15s')[0],
    },
    campaigns: { tickIntervalMs: env.CAMPAIGN_TICK_INTERVAL_MS ?? 1_000 },
    recordings: { linkTtlMs: parseDurationList(env.RECORDING_LINK_TTL ?? '24h')[0] },
    retention: { days: env.RETENTION_DAYS ?? 30, intervalMs: env.RETENTION_INTERVAL_MS ?? 600_000 },
    apiRateLimitPerMinute: env.API_RATE_LIMIT_PER_MINUTE ?? 100,
    bullBoard:
      env.BULL_BOARD_USERNAME && env.BULL_BOARD_PASSWORD
        ? { username: env.BULL_BOARD_USERNAME, password: env.BULL_BOARD_PASSWORD }
        : undefined,
    metrics: {
      enabled: env.METRICS_ENABLED ?? true,
      token: env.METRICS_TOKEN,
      port: env.METRICS_PORT ?? 9464,
    },
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
