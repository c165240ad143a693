import type { UltravoxCall } from '../../ultravox/ultravox.client';

/**
 * Ultravox writes a call's summary shortly after it ends, so `call.ended` can arrive without one
 * (reference/ultravox-api.md). The call is read again after 250 ms, then at doubling intervals of at
 * most 4 s, until the summary is there or CALLS_SUMMARY_WAIT has passed: about seven reads over 15 s.
 */
const FIRST_CHECK_MS = 250;
const MAX_CHECK_INTERVAL_MS = 4_000;

/** How long to wait before re-read number `check` (1 = the first), never past the deadline. */
export function summaryCheckDelayMs(check: number, now: number, deadline: number): number {
  const interval = Math.min(FIRST_CHECK_MS * 2 ** Math.max(0, check - 1), MAX_CHECK_INTERVAL_MS);
  return Math.max(0, Math.min(interval, deadline - now));
}

/** The summary call.completed carries; a short summary alone does not end the wait. */
export function hasSummary(call: Pick<UltravoxCall, 'summary'>): boolean {
  return typeof call.summary === 'string' && call.summary.trim() !== '';
}

/** The timeline's note on a call.completed sent without the summary it waited for. */
export function noSummaryNote(waitMs: number): string {
  return `Ultravox had written no summary ${Math.round(waitMs / 100) / 10} s after the end; sent without it`;
}
