/** How reconciliation paces itself (CONTRACT §6 lifecycle; docs/configuration.md CALLS_RECONCILE_AFTER). */

/** A live call is looked at again after CALLS_RECONCILE_AFTER, doubling with each look, at most this. */
export const MAX_RECHECK_MS = 30 * 60_000;
/** The dialer sets no maxDuration, so Ultravox's default (one hour) holds until a read says otherwise. */
export const DEFAULT_MAX_DURATION_SECONDS = 3600;
/** How long past its maxDuration a call Ultravox cannot be asked about is still waited for. */
export const UNREADABLE_GRACE_MS = 10 * 60_000;
/** Calls read back per pass, oldest first; the next pass goes on from there. */
export const RECONCILE_BATCH = 50;

/** The wait before the next look, after `checks` looks that found the call live (or unreadable). */
export function recheckDelayMs(reconcileAfterMs: number, checks: number): number {
  const doublings = Math.min(Math.max(checks - 1, 0), 30);
  return Math.min(reconcileAfterMs * 2 ** doublings, Math.max(MAX_RECHECK_MS, reconcileAfterMs));
}

/** When a call that stays unreadable ends `call.failed`: its maxDuration after it was placed, plus grace. */
export function unreadableDeadline(placedAt: Date, maxDurationSeconds: number | null): Date {
  const seconds = maxDurationSeconds ?? DEFAULT_MAX_DURATION_SECONDS;
  return new Date(placedAt.getTime() + seconds * 1000 + UNREADABLE_GRACE_MS);
}

/**
 * How long after its end a call's billing is waited for (call.billed, then reading the call back)
 * before it is marked `unavailable`: Ultravox retries a webhook for about 8.5 h.
 */
export const BILLING_WAIT_MS = 12 * 60 * 60_000;

/** Whether Switchboard stops asking Ultravox for the billing of a call that ended at `endedAt`. */
export function billingGivenUp(endedAt: Date, now: Date): boolean {
  return now.getTime() >= endedAt.getTime() + BILLING_WAIT_MS;
}
