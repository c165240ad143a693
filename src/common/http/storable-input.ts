import type { ErrorDetail } from '../errors/api-error';

/**
 * JSON deeper than this is refused before anything recurses into it (class-transformer and
 * class-validator would overflow the stack on thousands of levels). Metadata and contact variables
 * need a handful; the deepest body a route documents is 4.
 */
export const MAX_JSON_DEPTH = 32;

const MAX_FIELD_PATH = 80;

/**
 * Text that Postgres cannot store as it was sent: a NUL character (refused by `text` and `jsonb`) or
 * an unpaired UTF-16 surrogate (which the driver would silently turn into U+FFFD).
 */
export function isUnstorableText(text: string): boolean {
  return text.includes('\u0000') || !text.isWellFormed();
}

/**
 * `text` as Postgres can store it: each NUL character and unpaired surrogate replaced by U+FFFD. For
 * text Switchboard did not get from a request it can refuse (what Ultravox says a call was), where
 * one odd character must not keep the rest from being stored.
 */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD').toWellFormed();
}

export const UNSTORABLE_TEXT_MESSAGE =
  'contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored';

/**
 * The one edge rule for every value a request carries (JSON body, query string, path parameters):
 * the first string, or object key, that cannot be stored, or the first value nested deeper than
 * MAX_JSON_DEPTH, as a validation detail naming where it is (`metadata.notes`, `contacts[3].name`);
 * null when the whole value is fine. Iterative, so its own depth is not bounded by the stack.
 */
export function findUnstorableInput(value: unknown): ErrorDetail | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value: current, path, depth } = item;
    // A path 32 levels down is long; what the client needs is where it starts.
    const field = path.length > MAX_FIELD_PATH ? `${path.slice(0, MAX_FIELD_PATH)}…` : path || 'body';
    if (typeof current === 'string') {
      if (isUnstorableText(current)) return { field, message: `${field} ${UNSTORABLE_TEXT_MESSAGE}` };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) {
      return { field, message: `${field} is nested deeper than ${MAX_JSON_DEPTH} levels` };
    }
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) {
        stack.push({ value: current[i], path: `${path}[${i}]`, depth: depth + 1 });
      }
      continue;
    }
    const entries = Object.entries(current);
    if (entries.some(([key]) => isUnstorableText(key))) {
      return { field, message: `a key of ${field} ${UNSTORABLE_TEXT_MESSAGE}` };
    }
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i];
      stack.push({ value: child, path: path ? `${path}.${key}` : key, depth: depth + 1 });
    }
  }
  return null;
}
