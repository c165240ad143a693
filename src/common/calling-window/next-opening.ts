import { IANAZone } from 'luxon';
import { CallingWindow, Weekday, WEEKDAYS } from './calling-window';

/*
 * Calling-window maths, pure (no clock): every function takes the instant it reasons about.
 *
 * - `days` are the local weekdays (in `timezone`) on which the window OPENS. `start` is inclusive,
 *   `end` exclusive. When `end < start` the window is overnight: it opens on a listed day at `start`
 *   and closes at `end` on the next local day, whether or not that day is listed.
 * - A local time that does not exist (spring-forward gap) resolves to the first instant after the
 *   gap; an ambiguous one (fall-back) to its first occurrence. This applies to `start` and `end`
 *   alike; an opening that DST squeezes to nothing (e.g. 02:00-02:30 on a spring-forward day in
 *   America/New_York) does not open at all that day.
 * - A malformed window (unknown zone, bad HH:MM, start == end, no days) throws a RangeError rather
 *   than being treated as "never open": `nextOpening` returns null for "call now", so it has no
 *   honest answer for a window that never opens. The DTO rejects such windows, and stored ones are
 *   read through `parseStoredWindow` (stored-window.ts), so this is a last line of defence.
 */

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Any listed weekday recurs within 7 days; the 8th day covers an opening DST squeezed to nothing. */
const SEARCH_DAYS = 8;

interface ParsedWindow {
  zone: IANAZone;
  days: ReadonlySet<Weekday>;
  /** Minutes since local midnight. */
  start: number;
  end: number;
}

interface Interval {
  open: number;
  close: number;
}

/** True when the window is open at `at` (start inclusive, end exclusive). Throws on a malformed window. */
export function isWithinWindow(window: CallingWindow, at: Date): boolean {
  return within(parse(window), instant(at));
}

/**
 * Null when the window is open at `at` (call now); otherwise the earliest instant after `at` at which
 * it opens. Throws on a malformed window.
 */
export function nextOpening(window: CallingWindow, at: Date): Date | null {
  const parsed = parse(window);
  const t = instant(at);
  if (within(parsed, t)) return null;
  const today = localMidnight(parsed.zone, t);
  for (let k = 0; k <= SEARCH_DAYS; k++) {
    const interval = intervalOpeningOn(parsed, today + k * DAY_MS);
    if (interval !== null && interval.open >= t) return new Date(interval.open);
  }
  throw new RangeError(`calling window never opens within ${SEARCH_DAYS} days`);
}

function within(window: ParsedWindow, t: number): boolean {
  const today = localMidnight(window.zone, t);
  // Yesterday's opening matters for overnight windows still running after local midnight.
  return [today - DAY_MS, today].some((day) => {
    const interval = intervalOpeningOn(window, day);
    return interval !== null && interval.open <= t && t < interval.close;
  });
}

/** `day` is a local date as the UTC epoch ms of its midnight ("wall clock as if UTC"). */
function intervalOpeningOn(window: ParsedWindow, day: number): Interval | null {
  const weekday = WEEKDAYS[(new Date(day).getUTCDay() + 6) % 7];
  if (!window.days.has(weekday)) return null;
  const closeDay = window.end > window.start ? day : day + DAY_MS;
  const open = resolveWallTime(window.zone, day + window.start * MINUTE_MS);
  const close = resolveWallTime(window.zone, closeDay + window.end * MINUTE_MS);
  return open < close ? { open, close } : null;
}

function localMidnight(zone: IANAZone, t: number): number {
  const wall = t + zone.offset(t) * MINUTE_MS;
  return Math.floor(wall / DAY_MS) * DAY_MS;
}

/** The instant a local wall time (as UTC epoch ms) denotes in `zone`: gap → end of gap, overlap → first. */
function resolveWallTime(zone: IANAZone, wall: number): number {
  const before = zone.offset(wall - DAY_MS);
  const after = zone.offset(wall + DAY_MS);
  const valid = [before, after]
    .map((offset) => ({ offset, t: wall - offset * MINUTE_MS }))
    .filter(({ offset, t }) => zone.offset(t) === offset)
    .map(({ t }) => t);
  if (valid.length > 0) return Math.min(...valid);
  // In the gap: the transition instant lies between the two readings; find it to the millisecond.
  let lo = wall - after * MINUTE_MS;
  let hi = wall - before * MINUTE_MS;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (zone.offset(mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

function parse(window: CallingWindow): ParsedWindow {
  const zone = IANAZone.create(window.timezone);
  if (!zone.isValid) throw new RangeError(`calling window: unknown time zone ${window.timezone}`);
  const start = minutesOf(window.start, 'start');
  const end = minutesOf(window.end, 'end');
  if (start === end) throw new RangeError('calling window: start equals end');
  if (window.days.length === 0) throw new RangeError('calling window: no days');
  for (const day of window.days) {
    if (!WEEKDAYS.includes(day)) throw new RangeError(`calling window: unknown day ${String(day)}`);
  }
  return { zone, days: new Set(window.days), start, end };
}

function minutesOf(hhmm: string, field: string): number {
  const match = HH_MM.exec(hhmm);
  if (match === null) throw new RangeError(`calling window: ${field} must be HH:MM, got ${hhmm}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

function instant(at: Date): number {
  const t = at.getTime();
  if (Number.isNaN(t)) throw new RangeError('calling window: invalid date');
  return t;
}
