import { batchPerTick } from './batch-per-tick';

describe('batchPerTick', () => {
  it('hands calls made in one turn of the event loop to one write, each caller getting its own result', async () => {
    const batches: number[][] = [];
    const write = batchPerTick(async (items: readonly number[]) => {
      batches.push([...items]);
      return items.map((n) => n * 10);
    });
    const results = await Promise.all([1, 2, 3].map((n) => write(n)));
    expect(results).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(await write(4)).toBe(40);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('when a batch fails, retries each item alone so only the bad one fails', async () => {
    const write = batchPerTick(async (items: readonly number[]) => {
      if (items.includes(2)) throw new Error('constraint violated by 2');
      return items.map((n) => n + 1);
    });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => write(n)));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([
      2,
      'constraint violated by 2',
      4,
    ]);
  });

  it('caps a batch at maxBatchSize', async () => {
    const sizes: number[] = [];
    const write = batchPerTick(async (items: readonly number[]) => {
      sizes.push(items.length);
      return [...items];
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => write(n)));
    expect(sizes).toEqual([2, 2, 1]);
  });
});
