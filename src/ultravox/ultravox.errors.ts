/** Why a request to Ultravox did not succeed, in the terms callers decide on. */
export type UltravoxFailure =
  | 'rejected_key' // 401/403: the API key is not accepted
  | 'not_found' // 404
  | 'bad_request' // 400/422: Ultravox refused the body
  | 'rate_limited' // 429: concurrency or creation-rate cap; retry after retryAfterMs
  | 'unavailable' // 5xx or connection error: nothing happened, safe to retry
  | 'timeout' // no answer in time: the request may or may not have taken effect
  | 'unexpected'; // any other status

export class UltravoxError extends Error {
  constructor(
    readonly failure: UltravoxFailure,
    message: string,
    readonly status: number | null = null,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'UltravoxError';
  }
}

/** Retry-After in seconds or as an HTTP date, in milliseconds from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return null;
  if (/^\d+(\.\d+)?$/.test(raw.trim())) return Math.round(Number(raw) * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
