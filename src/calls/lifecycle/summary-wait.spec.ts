import { hasSummary, noSummaryNote, summaryCheckDelayMs } from './summary-wait';

describe('summary wait: re-reads of a call whose summary is not written yet', () => {
  it('re-reads after 250 ms, then doubling, at most 4 s apart', () => {
    const deadline = 1_000_000;
    expect([1, 2, 3, 4, 5, 6, 7].map((check) => summaryCheckDelayMs(check, 0, deadline))).toEqual([
      250, 500, 1_000, 2_000, 4_000, 4_000, 4_000,
    ]);
  });

  it('never waits past the deadline, and not at all once it has passed', () => {
    expect(summaryCheckDelayMs(5, 14_000, 15_000)).toBe(1_000);
    expect(summaryCheckDelayMs(1, 16_000, 15_000)).toBe(0);
  });

  it('over the default 15 s reads the call about seven times', () => {
    let now = 0;
    let reads = 0;
    for (let check = 1; now < 15_000; check++) {
      now += summaryCheckDelayMs(check, now, 15_000);
      reads += 1;
    }
    expect(reads).toBe(7);
  });

  it('counts only a non-blank summary', () => {
    expect(hasSummary({ summary: 'The customer confirmed.' })).toBe(true);
    for (const summary of [null, undefined, '', '  ']) expect(hasSummary({ summary })).toBe(false);
  });

  it('says in the timeline how long it waited', () => {
    expect(noSummaryNote(15_000)).toBe('Ultravox had written no summary 15 s after the end; sent without it');
  });
});
