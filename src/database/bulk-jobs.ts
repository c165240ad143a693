import type { Queue } from 'bullmq';
import { RedisTimeoutError } from '../common/errors/dependency-outage';
import type { BulkJobs } from '../common/queues';
import { batchPerTick } from './batch-per-tick';

/**
 * `queue.addBulk` for concurrent callers: the jobs added in one turn of the event loop go to Redis
 * together, one round trip instead of one per caller. A caller waits at most `timeoutMs`
 * (REDIS_TIMEOUT_MS) for Redis; the add may still land later, which is harmless since jobId is the
 * domain id.
 */
export function addInBulk<Data>(
  queue: Queue<Data>,
  timeoutMs: number,
): (jobs: BulkJobs<Data>) => Promise<void> {
  return batchPerTick(async (batches: readonly BulkJobs<Data>[]) => {
    await withinTimeout(queue.addBulk(batches.flat()), timeoutMs, `add to ${queue.name}`);
    return batches.map(() => undefined);
  });
}

function withinTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeoutError(timeoutMs, what)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
