import { isUUID } from 'class-validator';
import { ApiError } from './errors/api-error';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Where a page ended: the last row's created_at and id. */
export interface Position {
  /** created_at as Postgres prints it: microsecond precision, which a JS Date would lose. */
  t: string;
  i: string;
}

/** created_at::text as Postgres prints it, e.g. `2026-11-23 10:52:26.123456+00`. */
const POSTGRES_TIMESTAMPTZ =
  /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?[+-](\d{2})(?::(\d{2}))?$/;

/** The shape, and a time that exists: `2026-02-30` or `25:00` would make Postgres fail the query. */
function isTimestamp(text: unknown): boolean {
  const m = typeof text === 'string' ? POSTGRES_TIMESTAMPTZ.exec(text) : null;
  if (!m) return false;
  const [year, month, day, hour, minute, second, , offsetHours, offsetMinutes] = m
    .slice(1)
    .map((part) => (part?.startsWith('.') ? 0 : Number(part ?? 0)));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return (
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHours <= 15 &&
    offsetMinutes <= 59
  );
}

/** The position a `next_cursor` names; a cursor this API did not hand out answers 400 invalid_cursor. */
export function decodeCursor(cursor: string): Position {
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
    if (isTimestamp(position.t) && isUUID(position.i)) {
      return position;
    }
  } catch {
    // reported below
  }
  throw ApiError.badRequest('invalid_cursor', 'cursor is not one this API handed out', {
    hint: 'Pass next_cursor from the previous page unchanged, or omit cursor for the first page',
  });
}

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}
