import DataLoader from 'dataloader';
import type { Queue } from 'bullmq';

/**
 * Group commit: calls made in the same turn of the event loop are handed to `writeMany` together, so
 * a burst of N concurrent requests costs one statement (one round trip, one WAL flush) instead of N.
 * Under light load a batch holds one item and nothing waits. `writeMany` returns one result per item,
 * in order. When a batch of several fails, each item is retried alone, so one bad item (a foreign key
 * gone, a constraint) fails only its own caller.
 */
export function groupCommit<Item, Result>(
  writeMany: (items: readonly Item[]) => Promise<Result[]>,
  maxBatchSize = 500,
): (item: Item) => Promise<Result> {
  const loader = new DataLoader<Item, Result>(
    async (items) => {
      try {
        return await writeMany(items);
      } catch (err) {
        if (items.length === 1) throw err;
        return Promise.all(
          items.map((item) =>
            writeMany([item]).then(
              ([result]) => result,
              (e: unknown) => toError(e),
            ),
          ),
        );
      }
    },
    { cache: false, maxBatchSize, batchScheduleFn: (flush) => setImmediate(flush) },
  );
  return (item) => loader.load(item);
}

/** What `queue.addBulk` takes: jobs with their names, data and options. */
export type BulkJobs<Data> = Parameters<Queue<Data>['addBulk']>[0];

/**
 * `queue.addBulk` for concurrent callers: the jobs added in one turn of the event loop go to Redis
 * together, one round trip instead of one per caller.
 */
export function addInBulk<Data>(queue: Queue<Data>): (jobs: BulkJobs<Data>) => Promise<void> {
  return groupCommit(async (batches: readonly BulkJobs<Data>[]) => {
    await queue.addBulk(batches.flat());
    return batches.map(() => undefined);
  });
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
