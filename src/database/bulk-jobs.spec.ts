import type { Queue } from 'bullmq';
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
    const add = addInBulk(queue);
    const job = (name: string) => ({ name, data: { n: 1 } });
    await Promise.all([add([job('a')]), add([job('b'), job('c')])]);
    expect(calls).toEqual([['a', 'b', 'c']]);
  });
});
