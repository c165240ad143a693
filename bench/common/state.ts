/** What a benchmark left behind, read back to check that every acknowledged request was stored. */
import { Queue } from 'bullmq';
import { Client } from 'pg';
import type { BenchWorld } from './world';

export async function queryOne<T>(world: BenchWorld, sql: string, params: unknown[] = []): Promise<T> {
  const db = new Client({ connectionString: world.databaseUrl });
  await db.connect();
  try {
    return (await db.query(sql, params)).rows[0] as T;
  } finally {
    await db.end();
  }
}

export const countRows = async (world: BenchWorld, sql: string, params: unknown[] = []): Promise<number> =>
  Number((await queryOne<{ count: string }>(world, sql, params)).count);

/** Jobs of one of Switchboard's queues in every state (REDIS_PREFIX:bull, src/app.module.ts). */
export async function jobCount(world: BenchWorld, queueName: string): Promise<number> {
  const queue = new Queue(queueName, {
    connection: { url: world.env.REDIS_URL },
    prefix: `${world.redisPrefix}:bull`,
  });
  try {
    const counts = await queue.getJobCounts(
      'waiting',
      'active',
      'completed',
      'failed',
      'delayed',
      'prioritized',
    );
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  } finally {
    await queue.close();
  }
}
