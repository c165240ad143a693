import { MAX_RECHECK_MS, recheckDelayMs, unreadableDeadline } from './reconcile-policy';

describe('reconciliation pacing', () => {
  const twoMinutes = 2 * 60_000;

  it('looks at a live call again after 2m, 4m, 8m … and never more than 30m apart', () => {
    const delays = [1, 2, 3, 4, 5, 6, 40].map((checks) => recheckDelayMs(twoMinutes, checks) / 60_000);
    expect(delays).toEqual([2, 4, 8, 16, 30, 30, 30]);
  });

  it('keeps a CALLS_RECONCILE_AFTER longer than the cap as the interval', () => {
    expect(recheckDelayMs(MAX_RECHECK_MS * 2, 3)).toBe(MAX_RECHECK_MS * 2);
  });

  it('gives an unreadable call its maxDuration plus ten minutes, one hour when Ultravox never said', () => {
    const placed = new Date('2026-01-01T10:00:00Z');
    expect(unreadableDeadline(placed, 600).toISOString()).toBe('2026-01-01T10:20:00.000Z');
    expect(unreadableDeadline(placed, null).toISOString()).toBe('2026-01-01T11:10:00.000Z');
  });
});
