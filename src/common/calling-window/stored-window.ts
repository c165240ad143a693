import { CallingWindow, isIanaTimeZone, Weekday, WEEKDAYS } from './calling-window';
import { isWithinWindow } from './next-opening';

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
const FIELDS: ReadonlySet<string> = new Set(['timezone', 'days', 'start', 'end']);

/** A stored setting that does not hold (written before input was checked, or by hand): what is wrong. */
export class InvalidSetting {
  constructor(readonly problem: string) {}
}

/** Whose calling window governs a call: the campaign's, else the agent's, else the agency's. */
export type WindowOwner = 'campaign' | 'agent' | 'agency';

/** The governing window is stored but invalid: which owner's, and why. */
export class InvalidWindow extends InvalidSetting {
  constructor(
    readonly owner: WindowOwner,
    problem: string,
  ) {
    super(problem);
  }
}

/**
 * A calling window as read back from the database, checked instead of trusted: the window, null for
 * none (SQL or JSON null), or what is wrong with it. The rules are CallingWindowDto's (the input of
 * every route that stores a window), written out by hand because trigger-call reads windows on its hot
 * path (docs/benchmarks.md#trigger-body-checked-by-hand); stored-window.spec.ts holds the two to the
 * same verdicts. A window this accepts is one the calling-window maths accepts too.
 */
export function parseStoredWindow(stored: unknown): CallingWindow | null | InvalidSetting {
  if (stored === null || stored === undefined) return null;
  if (typeof stored !== 'object' || Array.isArray(stored)) {
    return new InvalidSetting('calling_window must be an object');
  }
  const { timezone, days, start, end } = stored as Record<string, unknown>;
  const problems = [
    ...Object.keys(stored)
      .filter((key) => !FIELDS.has(key))
      .map((key) => `${key} is not an accepted field`),
    ...(typeof timezone === 'string' && isIanaTimeZone(timezone)
      ? []
      : ['timezone must be an IANA time zone such as Europe/Berlin']),
    ...daysProblems(days),
    ...(typeof start === 'string' && HH_MM.test(start) ? [] : ['start must be HH:MM (24 h)']),
    ...(typeof end === 'string' && HH_MM.test(end) ? [] : ['end must be HH:MM (24 h)']),
    ...(typeof start === 'string' && HH_MM.test(start) && end === start
      ? ['end must differ from start (end before start means an overnight window)']
      : []),
  ];
  if (problems.length > 0) return new InvalidSetting(problems.join('; '));
  const window: CallingWindow = {
    timezone: timezone as string,
    days: days as Weekday[],
    start: start as string,
    end: end as string,
  };
  try {
    isWithinWindow(window, new Date(0));
  } catch (err) {
    return new InvalidSetting((err as Error).message);
  }
  return window;
}

/**
 * The window that governs a call: the first owner in `stored` (most specific first) that has one
 * stored, checked. Null when none has one (any time); an InvalidWindow when the governing one is
 * invalid — an invalid window further down the list does not govern, so it does not matter.
 */
export function governingWindow(
  stored: ReadonlyArray<readonly [WindowOwner, unknown]>,
): CallingWindow | null | InvalidWindow {
  for (const [owner, value] of stored) {
    const window = parseStoredWindow(value);
    if (window instanceof InvalidSetting) return new InvalidWindow(owner, window.problem);
    if (window !== null) return window;
  }
  return null;
}

function daysProblems(days: unknown): string[] {
  if (!Array.isArray(days)) return ['days must be an array'];
  const problems: string[] = [];
  if (days.length === 0) problems.push('days must contain at least 1 elements');
  if (new Set(days).size !== days.length) problems.push("All days's elements must be unique");
  if (!days.every((day) => (WEEKDAYS as readonly unknown[]).includes(day))) {
    problems.push(`days must contain only ${WEEKDAYS.join(', ')}`);
  }
  return problems;
}
