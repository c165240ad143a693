// Cursor pagination shaped like Ultravox's (reference: "Lists and pagination"). The cursor is opaque to
// clients; inside it is a keyset position, so calls created while a client pages do not shift pages.

export type QueryParams = Record<string, string | string[] | undefined>;

export interface Page<T> {
  next: string | null;
  previous: string | null;
  total: number;
  results: T[];
}

export interface PageRequest {
  query: QueryParams;
  /** Absolute URL of the list, without query, e.g. http://127.0.0.1:4100/api/calls. */
  baseUrl: string;
  defaultPageSize: number;
}

/** Thrown for a cursor this server did not issue; routes answer 404 "Invalid cursor" as DRF does. */
export class InvalidCursorError extends Error {
  constructor() {
    super('Invalid cursor');
  }
}

interface Cursor {
  /** 'n' = items after rank r, 'p' = items before rank r. */
  d: 'n' | 'p';
  r: number;
}

const MAX_PAGE_SIZE = 1000;

/** `items` must be in presentation order with `rankOf` strictly increasing along it. */
export function paginate<T>(items: readonly T[], rankOf: (item: T) => number, request: PageRequest): Page<T> {
  const pageSize = parsePageSize(first(request.query.pageSize), request.defaultPageSize);
  const cursor = decodeCursor(first(request.query.cursor));
  let start = 0;
  if (cursor?.d === 'n') start = countWhile(items, (item) => rankOf(item) <= cursor.r);
  if (cursor?.d === 'p') start = Math.max(0, countWhile(items, (item) => rankOf(item) < cursor.r) - pageSize);
  const results = items.slice(start, start + pageSize);
  const end = start + results.length;
  const link = (c: Cursor): string => pageUrl(request, c);
  return {
    next:
      end < items.length && results.length > 0
        ? link({ d: 'n', r: rankOf(results[results.length - 1]) })
        : null,
    previous: start > 0 && results.length > 0 ? link({ d: 'p', r: rankOf(results[0]) }) : null,
    total: items.length,
    results,
  };
}

export function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parsePageSize(raw: string | undefined, fallback: number): number {
  const size = raw === undefined ? NaN : Number.parseInt(raw, 10);
  if (!Number.isFinite(size) || size < 1) return fallback;
  return Math.min(size, MAX_PAGE_SIZE);
}

function countWhile<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  const index = items.findIndex((item) => !predicate(item));
  return index < 0 ? items.length : index;
}

function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined || raw === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (isCursor(parsed)) return parsed;
  } catch {
    // Falls through to the same answer as a well-formed but foreign cursor.
  }
  throw new InvalidCursorError();
}

function isCursor(value: unknown): value is Cursor {
  if (typeof value !== 'object' || value === null) return false;
  const { d, r } = value as { d?: unknown; r?: unknown };
  return (d === 'n' || d === 'p') && typeof r === 'number' && Number.isFinite(r);
}

/** Keeps every other query parameter (pageSize, filters) so following `next` stays on the same list. */
function pageUrl(request: PageRequest, cursor: Cursor): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(request.query)) {
    if (key === 'cursor' || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
  }
  params.set('cursor', Buffer.from(JSON.stringify(cursor)).toString('base64url'));
  return `${request.baseUrl}?${params.toString()}`;
}
