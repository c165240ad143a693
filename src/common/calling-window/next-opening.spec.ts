import { CallingWindow } from './calling-window';
import { isWithinWindow, nextOpening } from './next-opening';

const at = (iso: string): Date => new Date(iso);
const opening = (window: CallingWindow, iso: string): string | null =>
  nextOpening(window, at(iso))?.toISOString() ?? null;

// January 2026: Mon 5th .. Fri 9th; America/New_York is UTC-5 (EST).
const weekdays: CallingWindow = {
  timezone: 'America/New_York',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  start: '09:00',
  end: '17:00',
};

describe('weekday window (America/New_York, Mon-Fri 09:00-17:00)', () => {
  it('is inside at Wednesday noon and says call now', () => {
    expect(isWithinWindow(weekdays, at('2026-01-07T17:00:00Z'))).toBe(true);
    expect(opening(weekdays, '2026-01-07T17:00:00Z')).toBeNull();
  });

  it('before opening on a weekday opens the same day', () => {
    expect(isWithinWindow(weekdays, at('2026-01-07T13:00:00Z'))).toBe(false);
    expect(opening(weekdays, '2026-01-07T13:00:00Z')).toBe('2026-01-07T14:00:00.000Z');
  });

  it('is inside exactly at start and outside exactly at end', () => {
    expect(isWithinWindow(weekdays, at('2026-01-07T14:00:00Z'))).toBe(true);
    expect(opening(weekdays, '2026-01-07T14:00:00Z')).toBeNull();
    expect(isWithinWindow(weekdays, at('2026-01-07T21:59:59.999Z'))).toBe(true);
    expect(isWithinWindow(weekdays, at('2026-01-07T22:00:00Z'))).toBe(false);
    expect(opening(weekdays, '2026-01-07T22:00:00Z')).toBe('2026-01-08T14:00:00.000Z');
  });

  it('skips the weekend: Friday 18:00 opens Monday 09:00 local', () => {
    expect(opening(weekdays, '2026-01-09T23:00:00Z')).toBe('2026-01-12T14:00:00.000Z');
    expect(opening(weekdays, '2026-01-10T17:00:00Z')).toBe('2026-01-12T14:00:00.000Z');
  });

  it('uses the local weekday, not the UTC one (Fri 20:00 local = Sat UTC, Sun 23:00 local = Mon UTC)', () => {
    expect(opening(weekdays, '2026-01-10T01:00:00Z')).toBe('2026-01-12T14:00:00.000Z');
    expect(opening(weekdays, '2026-01-12T04:00:00Z')).toBe('2026-01-12T14:00:00.000Z');
  });

  it('crosses the fall-back weekend: Friday EDT close opens Monday 09:00 EST', () => {
    expect(opening(weekdays, '2026-10-30T22:00:00Z')).toBe('2026-11-02T14:00:00.000Z');
  });
});

describe('overnight window (Europe/Berlin, Fri 20:00-02:00, UTC+1 in January)', () => {
  const overnight: CallingWindow = { timezone: 'Europe/Berlin', days: ['fri'], start: '20:00', end: '02:00' };

  it('is inside before midnight on the listed day', () => {
    expect(isWithinWindow(overnight, at('2026-01-09T20:00:00Z'))).toBe(true);
  });

  it('is inside after midnight on the unlisted next day', () => {
    expect(isWithinWindow(overnight, at('2026-01-10T00:30:00Z'))).toBe(true);
    expect(opening(overnight, '2026-01-10T00:30:00Z')).toBeNull();
  });

  it('closes at end on the next day and reopens the next listed day', () => {
    expect(isWithinWindow(overnight, at('2026-01-10T01:00:00Z'))).toBe(false);
    expect(opening(overnight, '2026-01-10T01:00:00Z')).toBe('2026-01-16T19:00:00.000Z');
  });

  it('before start on the listed day opens that evening', () => {
    expect(opening(overnight, '2026-01-09T18:59:00Z')).toBe('2026-01-09T19:00:00.000Z');
  });

  it('after midnight following an unlisted day is outside', () => {
    // Friday 01:00 local: Thursday is not listed, so nothing is running over from the night before.
    expect(isWithinWindow(overnight, at('2026-01-09T00:00:00Z'))).toBe(false);
    expect(opening(overnight, '2026-01-09T00:00:00Z')).toBe('2026-01-09T19:00:00.000Z');
  });
});

describe('DST in America/New_York', () => {
  const sundayAt = (start: string, end: string): CallingWindow => ({
    timezone: 'America/New_York',
    days: ['sun'],
    start,
    end,
  });

  it('spring-forward (2026-03-08): 02:30 does not exist, opens at 03:00 EDT = 07:00Z', () => {
    const window = sundayAt('02:30', '04:00');
    expect(opening(window, '2026-03-07T17:00:00Z')).toBe('2026-03-08T07:00:00.000Z');
    expect(isWithinWindow(window, at('2026-03-08T06:59:59Z'))).toBe(false);
    expect(isWithinWindow(window, at('2026-03-08T07:00:00Z'))).toBe(true);
    expect(isWithinWindow(window, at('2026-03-08T08:00:00Z'))).toBe(false);
  });

  it('the week after spring-forward opens at 02:30 EDT', () => {
    expect(opening(sundayAt('02:30', '04:00'), '2026-03-08T09:00:00Z')).toBe('2026-03-15T06:30:00.000Z');
  });

  it('an opening squeezed to nothing by the gap is skipped', () => {
    expect(opening(sundayAt('02:00', '02:30'), '2026-03-07T17:00:00Z')).toBe('2026-03-15T06:00:00.000Z');
  });

  it('fall-back (2026-11-01): ambiguous 01:30 opens at its first occurrence, 01:30 EDT = 05:30Z', () => {
    const window = sundayAt('01:30', '03:00');
    expect(opening(window, '2026-10-31T16:00:00Z')).toBe('2026-11-01T05:30:00.000Z');
    expect(isWithinWindow(window, at('2026-11-01T05:29:59Z'))).toBe(false);
    // 01:30 EST, the second occurrence, is still inside; 03:00 EST = 08:00Z closes.
    expect(isWithinWindow(window, at('2026-11-01T06:30:00Z'))).toBe(true);
    expect(isWithinWindow(window, at('2026-11-01T08:00:00Z'))).toBe(false);
  });
});

describe('other zones', () => {
  it('Asia/Kolkata (UTC+05:30): opens and closes on the half hour in UTC', () => {
    const kolkata: CallingWindow = { ...weekdays, timezone: 'Asia/Kolkata', end: '18:00' };
    expect(opening(kolkata, '2026-01-05T02:30:00Z')).toBe('2026-01-05T03:30:00.000Z');
    expect(isWithinWindow(kolkata, at('2026-01-05T12:29:00Z'))).toBe(true);
    expect(opening(kolkata, '2026-01-05T12:30:00Z')).toBe('2026-01-06T03:30:00.000Z');
  });

  it('Australia/Sydney: Friday close in AEST (+10) opens Monday 09:00 AEDT (+11) after 2026-10-04', () => {
    const sydney: CallingWindow = { ...weekdays, timezone: 'Australia/Sydney' };
    expect(opening(sydney, '2026-10-02T07:00:00Z')).toBe('2026-10-04T22:00:00.000Z');
    expect(isWithinWindow(sydney, at('2026-10-04T22:00:00Z'))).toBe(true);
  });

  it('Australia/Sydney spring-forward gap: Sunday 02:30 opens at 03:00 AEDT', () => {
    const window: CallingWindow = {
      timezone: 'Australia/Sydney',
      days: ['sun'],
      start: '02:30',
      end: '05:00',
    };
    expect(opening(window, '2026-10-03T00:00:00Z')).toBe('2026-10-03T16:00:00.000Z');
  });
});

describe('malformed windows throw', () => {
  it.each<[string, CallingWindow]>([
    ['start == end', { ...weekdays, end: '09:00' }],
    ['unknown zone', { ...weekdays, timezone: 'Mars/Olympus_Mons' }],
    ['no days', { ...weekdays, days: [] }],
    ['24:00', { ...weekdays, end: '24:00' }],
  ])('%s', (_, window) => {
    expect(() => nextOpening(window, at('2026-01-07T17:00:00Z'))).toThrow(RangeError);
    expect(() => isWithinWindow(window, at('2026-01-07T17:00:00Z'))).toThrow(RangeError);
  });

  it('an invalid date', () => {
    expect(() => nextOpening(weekdays, new Date('nope'))).toThrow(RangeError);
  });
});
