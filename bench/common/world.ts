/** A benchmark's throw-away world: its own database and Redis prefix, dropped at the end. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';

export const ADMIN_DATABASE_URL =
  process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** dist/src/main.js, as `npm run start:prod` runs it. */
export const MAIN_JS = join(__dirname, '..', '..', 'src', 'main.js');

export interface BenchWorld {
  databaseName: string;
  databaseUrl: string;
  redisPrefix: string;
  /** The environment Switchboard is configured with (role and concurrency are added per process). */
  env: Record<string, string>;
}

export async function createWorld(): Promise<BenchWorld> {
  const tag = randomBytes(5).toString('hex');
  const databaseName = `bench_${tag}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${databaseName}`));
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${databaseName}`;
  const redisPrefix = `bench:${tag}`;
  return {
    databaseName,
    databaseUrl: url.toString(),
    redisPrefix,
    env: {
      DATABASE_URL: url.toString(),
      DB_MIGRATIONS_RUN: 'false',
      REDIS_URL,
      REDIS_PREFIX: redisPrefix,
      JWT_SECRET: randomBytes(24).toString('hex'),
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      LOG_LEVEL: 'warn',
      PUBLIC_BASE_URL: 'https://switchboard.bench',
      // A worker's /metrics listener on any free port; METRICS_ENABLED=false in the bench's own
      // environment measures the processes without metrics (docs/benchmarks.md#metrics).
      METRICS_PORT: '0',
      METRICS_ENABLED: process.env.METRICS_ENABLED ?? 'true',
    },
  };
}

export async function destroyWorld(world: BenchWorld): Promise<void> {
  await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${world.databaseName} WITH (FORCE)`));
  await clearRedisPrefix(world.redisPrefix);
}

export async function withAdmin<T>(work: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

export async function serviceVersions(): Promise<{ postgres: string; redis: string }> {
  const postgres = await withAdmin(
    async (admin) => (await admin.query('SHOW server_version')).rows[0].server_version as string,
  );
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  try {
    const info = await redis.info('server');
    return { postgres, redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown' };
  } finally {
    redis.disconnect();
  }
}

/** UNLINKs every key under `<prefix>:`. */
export async function clearRedisPrefix(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}

/** Counters of the benchmark database (pg_stat_database) and of the server's WAL (pg_stat_wal). */
export async function postgresCounters(databaseName: string): Promise<Record<string, number>> {
  return withAdmin(async (admin) => {
    const [db] = (
      await admin.query(
        `SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted
           FROM pg_stat_database WHERE datname = $1`,
        [databaseName],
      )
    ).rows;
    const [wal] = (await admin.query(`SELECT wal_records, wal_bytes, wal_write, wal_sync FROM pg_stat_wal`))
      .rows;
    const counters: Record<string, number> = {};
    for (const [key, value] of Object.entries({ ...db, ...wal })) counters[key] = Number(value);
    return counters;
  });
}

export function countersSince(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((key) => [key, after[key] - (before[key] ?? 0)]));
}
