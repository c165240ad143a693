/** A backing service whose outage answers 503 instead of 500 (CONTRACT §4). */
export type Dependency = 'postgres' | 'redis';

/** Node's errors for a peer that cannot be reached or went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * Postgres: SQLSTATE class 08 (connection exception), 57P01–57P03 (server shutting down, crashed,
 * starting up), 57014 (a statement canceled: past DATABASE_STATEMENT_TIMEOUT_MS, or by an operator),
 * and node-postgres's and pg-pool's own messages for a lost or timed-out connection.
 */
const POSTGRES_STATES = /^(08...|57P0[123]|57014)$/;
const STATEMENT_CANCELED = '57014';
const POSTGRES_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
];

/** ioredis's errors for a command that could not reach Redis or got no answer in time. */
const REDIS_MESSAGES = [
  /^Stream isn't writeable and enableOfflineQueue options is false$/,
  /^Connection is closed\.$/,
  /^Command timed out$/,
  /^Reached the max retries per request limit/,
  /^Redis did not answer within \d+ ms/,
];

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  syscall?: unknown;
  driverError?: unknown;
  cause?: unknown;
}

function redisOutage(err: ErrorLike): boolean {
  const message = typeof err.message === 'string' ? err.message : '';
  return err.name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((re) => re.test(message));
}

function postgresOutage(err: ErrorLike): boolean {
  const message = typeof err.message === 'string' ? err.message : '';
  if (typeof err.code === 'string' && POSTGRES_STATES.test(err.code)) return true;
  return POSTGRES_MESSAGES.some((re) => re.test(message));
}

/** A socket that could not connect or broke: reached only from pg, since ioredis reports its own. */
function networkFailure(err: ErrorLike): boolean {
  return typeof err.code === 'string' && NETWORK_CODES.has(err.code) && typeof err.syscall === 'string';
}

/**
 * Which backing service an error says is unreachable, if any: ioredis's and BullMQ's command errors
 * for Redis; node-postgres's, pg-pool's and TypeORM's (a QueryFailedError wraps the driver's error)
 * for Postgres. Anything else (a constraint violation, a bug) is not an outage.
 */
export function unreachableDependency(error: unknown): Dependency | undefined {
  let err = error as ErrorLike | undefined;
  for (let depth = 0; err && typeof err === 'object' && depth < 4; depth++) {
    if (redisOutage(err)) return 'redis';
    if (postgresOutage(err) || networkFailure(err)) return 'postgres';
    err = (err.driverError ?? err.cause) as ErrorLike | undefined;
  }
  return undefined;
}

/** True when Postgres canceled a statement (DATABASE_STATEMENT_TIMEOUT_MS, or an operator's cancel). */
export function postgresStatementCanceled(error: unknown): boolean {
  let err = error as ErrorLike | undefined;
  for (let depth = 0; err && typeof err === 'object' && depth < 4; depth++) {
    if (err.code === STATEMENT_CANCELED) return true;
    err = (err.driverError ?? err.cause) as ErrorLike | undefined;
  }
  return false;
}

/** Thrown when Redis did not answer within the configured bound (REDIS_TIMEOUT_MS). */
export class RedisTimeoutError extends Error {
  constructor(timeoutMs: number, what: string) {
    super(`Redis did not answer within ${timeoutMs} ms (${what})`);
    this.name = 'RedisTimeoutError';
  }
}
