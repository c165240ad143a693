import type { Queue } from 'bullmq';
import { unreachableDependency } from '../common/errors/dependency-outage';
import { addInBulk } from './bulk-jobs';

describe('addInBulk', () => {
  it('sends the jobs added in one turn of the event loop to Redis as one addBulk', async () => {
    const calls: string[][] = [];
    const queue = {
      addBulk: async (jobs: { name: string }[]) => {
        calls.push(jobs.map((j) => j.name));
        return [];
      },
    } as unknown as Queue<{ n: number }>;
    const add = addInBulk(queue, 1_000);
    const job = (name: string) => ({ name, data: { n: 1 } });
    await Promise.all([add([job('a')]), add([job('b'), job('c')])]);
    expect(calls).toEqual([['a', 'b', 'c']]);
  });

  it('gives up after the bound when Redis does not answer, with an error that says Redis is unreachable', async () => {
    const queue = {
      name: 'call-dial',
      addBulk: () => new Promise(() => undefined),
    } as unknown as Queue<{ n: number }>;
    const failure = await addInBulk(queue, 20)([{ name: 'a', data: { n: 1 } }]).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('Redis did not answer within 20 ms (add to call-dial)');
    expect(unreachableDependency(failure)).toBe('redis');
  });
});
