import { ApiError } from './errors/api-error';
import { decodeCursor, encodeCursor } from './pagination';

const ID = '3f0c6c1e-8b1a-4c36-9a0e-2f5b8d1c7e42';
const cursorAt = (t: string) => encodeCursor({ t, i: ID });

describe('page cursors', () => {
  it.each([
    '2026-11-23 10:52:26.123456+00',
    '2026-11-23 10:52:26+05:30',
    '2024-02-29 23:59:59-08',
    '0001-01-01 00:00:00+00',
  ])('a cursor at %s is read back unchanged', (t) => {
    expect(decodeCursor(cursorAt(t))).toEqual({ t, i: ID });
  });

  it.each([
    ['a day February does not have', '2026-02-30 10:00:00+00'],
    ['February 29 of a common year', '2026-02-29 10:00:00+00'],
    ['month 13', '2026-13-01 10:00:00+00'],
    ['day 0', '2026-01-00 10:00:00+00'],
    ['hour 24', '2026-01-01 24:00:00+00'],
    ['minute 60', '2026-01-01 10:60:00+00'],
    ['second 60', '2026-01-01 10:00:60+00'],
    ['year 0', '0000-01-01 10:00:00+00'],
    ['an offset of 16 hours', '2026-01-01 10:00:00+16'],
    ['an ISO T instead of a space', '2026-01-01T10:00:00+00'],
  ])('a cursor with %s answers 400 invalid_cursor', (_, t) => {
    expect(() => decodeCursor(cursorAt(t))).toThrow(ApiError);
    try {
      decodeCursor(cursorAt(t));
    } catch (err) {
      expect((err as ApiError).code).toBe('invalid_cursor');
      expect((err as ApiError).getStatus()).toBe(400);
    }
  });

  it('a cursor that is not base64 JSON, or whose id is not a uuid, answers invalid_cursor', () => {
    expect(() => decodeCursor('not a cursor')).toThrow(ApiError);
    expect(() => decodeCursor(encodeCursor({ t: '2026-01-01 10:00:00+00', i: 'x' }))).toThrow(ApiError);
  });
});
