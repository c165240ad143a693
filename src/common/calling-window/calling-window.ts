export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** When calls may be placed, in the callee-facing local time of `timezone` (CONTRACT §7). */
export interface CallingWindow {
  timezone: string;
  days: Weekday[];
  /** "HH:MM", inclusive. */
  start: string;
  /** "HH:MM", exclusive; earlier than start means an overnight window ending the next day. */
  end: string;
}

/** True when `zone` is an IANA zone this runtime knows. */
export function isIanaTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone.includes('/') || zone === 'UTC';
  } catch {
    return false;
  }
}
