import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
  ValidationError,
} from 'class-validator';

const toBool = ({ value }: { value: unknown }) =>
  value === undefined
    ? undefined
    : typeof value === 'boolean'
      ? value
      : String(value).toLowerCase() === 'true';
const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : Number(value);
const blankToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

const BASE64_32_BYTES = /^[A-Za-z0-9+/]{43}=$/;
const DURATION_LIST = /^\s*\d+(ms|s|m|h|d)?(\s*,\s*\d+(ms|s|m|h|d)?)*\s*$/;
const DURATION = /^\s*\d+(ms|s|m|h|d)?\s*$/;

/** The process environment as the contract (§2) defines it. Names are the variables' names. */
export class EnvironmentVariables {
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT?: number;

  @IsOptional()
  @IsString()
  HOST?: string;

  @IsOptional()
  @Transform(blankToUndefined)
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  DATABASE_URL?: string;

  @IsOptional()
  @Transform(blankToUndefined)
  @Matches(/^rediss?:\/\//, { message: 'must be a redis:// URL' })
  REDIS_URL?: string;

  @IsOptional()
  @Transform(blankToUndefined)
  @IsUrl({ require_tld: false, require_protocol: true })
  PUBLIC_BASE_URL?: string;

  @IsOptional()
  @Transform(blankToUndefined)
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  JWT_SECRET?: string;

  @IsOptional()
  @Transform(blankToUndefined)
  @IsUrl({ require_tld: false, require_protocol: true })
  JWT_JWKS_URL?: string;

  @IsOptional()
  @IsString()
  JWT_AUDIENCE?: string;

  @Matches(BASE64_32_BYTES, { message: 'must be base64 of exactly 32 bytes (openssl rand -base64 32)' })
  ENCRYPTION_KEY: string;

  @IsOptional()
  @IsString()
  ENCRYPTION_KEYS_PREVIOUS?: string;

  @IsOptional()
  @Transform(blankToUndefined)
  @IsUrl({ require_tld: false, require_protocol: true })
  ULTRAVOX_API_BASE_URL?: string;

  @IsOptional()
  @Matches(DURATION_LIST, { message: 'must be a comma-separated list of durations such as 30s,5m,30m' })
  WEBHOOK_RETRY_DELAYS?: string;

  /** How long an endpoint found unreachable is paused, growing with each pause in a row. */
  @IsOptional()
  @Matches(DURATION_LIST, { message: 'must be a comma-separated list of durations such as 10s,1m,5m' })
  WEBHOOK_PAUSE_DELAYS?: string;

  /** An endpoint whose deliveries have all failed for this long is disabled. */
  @IsOptional()
  @Matches(DURATION, { message: 'must be a duration such as 5d, 12h or 90m' })
  WEBHOOK_DISABLE_AFTER?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  WEBHOOK_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  WEBHOOK_ALLOW_PRIVATE_URLS?: boolean;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  API_RATE_LIMIT_PER_MINUTE?: number;

  @IsOptional()
  @IsString()
  BULL_BOARD_USERNAME?: string;

  @IsOptional()
  @IsString()
  BULL_BOARD_PASSWORD?: string;

  @IsOptional()
  @IsIn(['api', 'worker', 'all'])
  APP_ROLE?: 'api' | 'worker' | 'all';

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  DB_MIGRATIONS_RUN?: boolean;

  /** When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>`. */
  @IsOptional()
  @Transform(blankToUndefined)
  @Matches(/^[\x21-\x7e]{16,}$/, { message: 'must be at least 16 visible ASCII characters, no spaces' })
  METRICS_TOKEN?: string;

  /** Where a worker-only process (APP_ROLE=worker) serves /metrics and /health; 0 picks a free port. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  METRICS_PORT?: number;

  /** false: nothing is counted or timed (to measure what collecting metrics costs); /metrics stays. */
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  METRICS_ENABLED?: boolean;

  /** Prefix of every Redis key this deployment writes (queues, rate limits); lets tests share one Redis. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_:.-]+$/)
  REDIS_PREFIX?: string;

  /**
   * How long a request waits for Redis before it gives up: connecting, and each command of the app's
   * own client (rate limits, leases, health) or a queue add. Redis unreachable longer answers 503.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  REDIS_TIMEOUT_MS?: number;

  /** How long a request waits for a Postgres connection (a new one, or a free one from the pool). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  DATABASE_CONNECT_TIMEOUT_MS?: number;

  /**
   * Longest a statement of the app may run (Postgres `statement_timeout`): a query stuck behind a lock
   * or a runaway plan frees its connection and its request (503) or job (retried) instead of holding them.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  DATABASE_STATEMENT_TIMEOUT_MS?: number;

  /**
   * Deliveries one worker process sends at once. I/O-bound: a hanging receiver costs a socket, and
   * each endpoint is capped by WEBHOOK_ENDPOINT_MAX_IN_FLIGHT, so this is sized for many endpoints.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  WEBHOOK_DELIVERY_CONCURRENCY?: number;

  /** Attempts one endpoint may have under way at once, across all workers; the rest wait parked. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  WEBHOOK_ENDPOINT_MAX_IN_FLIGHT?: number;

  /** How often each worker looks for due deliveries that lost their queue job. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  WEBHOOK_SWEEP_INTERVAL_MS?: number;

  /** Live calls (dialing or in progress) one agency may have at once; more wait in the queue. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  MAX_CONCURRENT_CALLS_PER_AGENCY?: number;

  /** How often workers look for calls due to dial and Ultravox events not yet processed. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  CALLS_SWEEP_INTERVAL_MS?: number;

  /** A live call with an Ultravox id that has heard nothing this long is read back from Ultravox. */
  @IsOptional()
  @Matches(DURATION, { message: 'must be a duration such as 2m, 90s or 1h' })
  CALLS_RECONCILE_AFTER?: string;

  /** How often workers check each agency's registered Ultravox webhook (and its account's call limit). */
  @IsOptional()
  @Matches(DURATION, { message: 'must be a duration such as 5m, 30s or 1h' })
  ULTRAVOX_WEBHOOK_CHECK_INTERVAL?: string;

  /** How long call.completed waits for a summary Ultravox has not written yet at call.ended. */
  @IsOptional()
  @Matches(DURATION, { message: 'must be a duration such as 15s, 500ms or 1m' })
  CALLS_SUMMARY_WAIT?: string;

  /** Lifetime of the signed `recording_url` links handed out in webhooks and the calls API. */
  @IsOptional()
  @Matches(DURATION, { message: 'must be a duration such as 24h, 90m or 7d' })
  RECORDING_LINK_TTL?: string;

  /** How often workers move running campaigns along (settle ended calls, dial the next contacts). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(50)
  CAMPAIGN_TICK_INTERVAL_MS?: number;

  /** Timeout of each request to Ultravox. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  ULTRAVOX_TIMEOUT_MS?: number;

  /** Days stored Ultravox payloads, outbox events and delivery attempts are kept (idempotency keys: 24 h). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  RETENTION_DAYS?: number;

  /** How often the retention job runs (once across all workers). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  RETENTION_INTERVAL_MS?: number;
}

export class ConfigValidationError extends Error {}

function describe(errors: ValidationError[]): string {
  return errors
    .map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ') || 'invalid'}`)
    .join(', ');
}

/** Validates the environment; throws one error naming every bad variable. */
export function validateEnvironment(raw: Record<string, unknown>): EnvironmentVariables {
  const env = plainToInstance(EnvironmentVariables, raw, { enableImplicitConversion: false });
  const errors = validateSync(env, { skipMissingProperties: false });
  if (!env.JWT_SECRET && !env.JWT_JWKS_URL) {
    errors.push(
      Object.assign(new ValidationError(), {
        property: 'JWT_SECRET',
        constraints: { required: 'is required unless JWT_JWKS_URL is set' },
      }),
    );
  }
  if (errors.length > 0) throw new ConfigValidationError(`Invalid configuration: ${describe(errors)}`);
  return env;
}
