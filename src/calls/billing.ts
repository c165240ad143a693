import type { UltravoxCall } from '../ultravox/ultravox.client';
import { parseDuration } from './call-outcome';

/**
 * A call's `billing_status` (CONTRACT §5.6; README "Calls"): Ultravox's `billingStatus` lowercased
 * without its `BILLING_STATUS_` prefix, plus `unavailable`, which is Switchboard's own: Ultravox had
 * not billed the call BILLING_WAIT_MS after it ended, and Switchboard stopped asking. Null: the call
 * has not ended at Ultravox (or never reached it).
 */
export const BILLING_STATUSES = [
  'pending',
  'billed',
  'free_console',
  'free_zero_effective_duration',
  'free_minutes',
  'free_system_error',
  'free_other',
  'refunded',
  'unspecified',
  'unavailable',
] as const;
export type BillingStatus = (typeof BILLING_STATUSES)[number];

/** Billing Ultravox has made final for a call. */
export interface FinalBilling {
  status: Exclude<BillingStatus, 'pending' | 'unavailable'>;
  /** What Ultravox charged: its `billedDuration` when billed (or from the plan's free minutes), else 0. */
  billedSeconds: number | null;
}

const ULTRAVOX_STATUSES: ReadonlySet<string> = new Set(
  BILLING_STATUSES.filter((status) => status !== 'unavailable'),
);
/** Ultravox charged these calls' minutes (free minutes are the plan's, which an agency resells too). */
const CHARGED: ReadonlySet<string> = new Set(['billed', 'free_minutes']);

/**
 * The billing a Call object shows, or null while it is pending (or absent: Ultravox fields come and
 * go). An unknown value is final but unrecognised: `unspecified`.
 */
export function finalBilling(
  call: Pick<UltravoxCall, 'billingStatus' | 'billedDuration'>,
): FinalBilling | null {
  const raw = typeof call?.billingStatus === 'string' ? call.billingStatus.trim().toLowerCase() : '';
  const name = raw.replace(/^billing_status_/, '');
  if (name === '' || name === 'pending') return null;
  const status = (ULTRAVOX_STATUSES.has(name) ? name : 'unspecified') as FinalBilling['status'];
  if (!CHARGED.has(status)) return { status, billedSeconds: 0 };
  const seconds = parseDuration(call.billedDuration);
  return { status, billedSeconds: seconds === null ? null : Math.max(0, Math.round(seconds)) };
}
