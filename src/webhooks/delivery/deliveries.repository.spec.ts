import { inRoundsOfDistinct } from './deliveries.repository';

describe('inRoundsOfDistinct', () => {
  it('writes a batch in one round when no delivery appears twice', async () => {
    const rounds: string[][] = [];
    const results = await inRoundsOfDistinct(
      ['a', 'b', 'c'],
      (id) => id,
      async (round) => {
        rounds.push(round);
        return round.map((id) => id.toUpperCase());
      },
    );
    expect(rounds).toEqual([['a', 'b', 'c']]);
    expect(results).toEqual(['A', 'B', 'C']);
  });

  it('puts a second attempt of one delivery in a later round, and maps every result back to its item', async () => {
    const items = [
      { id: 'a', n: 1 },
      { id: 'b', n: 2 },
      { id: 'a', n: 3 },
      { id: 'a', n: 4 },
    ];
    const rounds: number[][] = [];
    const results = await inRoundsOfDistinct(
      items,
      (item) => item.id,
      async (round) => {
        rounds.push(round.map((item) => item.n));
        return round.map((item) => item.n * 10);
      },
    );
    expect(rounds).toEqual([[1, 2], [3], [4]]);
    expect(results).toEqual([10, 20, 30, 40]);
  });
});
