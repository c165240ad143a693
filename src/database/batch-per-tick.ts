import DataLoader from 'dataloader';
import { unreachableDependency } from '../common/errors/dependency-outage';

/**
 * Batching per event-loop turn ("group commit"): calls made in the same turn of the event loop are handed to `writeMany` together, so
 * a burst of N concurrent requests costs one statement (one round trip, one WAL flush) instead of N.
 * Under light load a batch holds one item and nothing waits. `writeMany` returns one result per item,
 * in order. When a batch of several fails, each item is retried alone, so one bad item (a foreign key
 * gone, a constraint) fails only its own caller.
 */
export function batchPerTick<Item, Result>(
  writeMany: (items: readonly Item[]) => Promise<Result[]>,
  maxBatchSize = 500,
): (item: Item) => Promise<Result> {
  const loader = new DataLoader<Item, Result>(
    async (items) => {
      try {
        return await writeMany(items);
      } catch (err) {
        // An unreachable Postgres or Redis fails every item alike: no point trying each alone.
        if (items.length === 1 || unreachableDependency(err)) throw err;
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

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
