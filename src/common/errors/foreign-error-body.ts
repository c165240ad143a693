import { randomUUID } from 'node:crypto';
import type { ErrorBodyDto } from './error-body.dto';
import { errorBody } from './error-body';

/**
 * An error answer written by a library rather than by us (Bull Board answers
 * `{"error": {"key": "ERRORS.QUEUE_NOT_FOUND"}, "message"?: "…"}`) in the contract's shape:
 * `queue_not_found` with a readable message. A 5xx says no more than ours do: `internal_error` with
 * an `error_id`, which the caller logs beside what the library said. Null when the payload already
 * has the contract's shape, or is not JSON.
 */
export function foreignErrorBody(status: number, payload: string): ErrorBodyDto | null {
  let parsed: { success?: unknown; error?: unknown; message?: unknown };
  try {
    parsed = JSON.parse(payload) as typeof parsed;
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || parsed.success === false) return null;
  if (status >= 500) {
    return {
      success: false,
      error: { code: 'internal_error', message: 'Internal server error', error_id: randomUUID() },
    };
  }
  const key =
    typeof parsed.error === 'object' && parsed.error ? (parsed.error as { key?: unknown }).key : parsed.error;
  const code =
    String(key ?? 'bad_request')
      .replace(/^ERRORS\./, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_') || 'bad_request';
  const readable = code.replace(/_/g, ' ');
  const message =
    typeof parsed.message === 'string' ? parsed.message : readable[0].toUpperCase() + readable.slice(1);
  return errorBody(code, message);
}
