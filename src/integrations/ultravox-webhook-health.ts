import type { UltravoxWebhookFailure, UltravoxWebhookStatus } from '../agencies/agency.entity';
import { storableText } from '../common/http/storable-input';
import type { UltravoxAccount, UltravoxWebhook } from '../ultravox/ultravox.client';

/** At most this many of Ultravox's recent failures are kept and shown. */
const FAILURES_SHOWN = 10;
const DETAIL_MAX = 300;

/** The webhook's health as Ultravox reports it, read leniently (fields come and go between versions). */
export interface WebhookHealth {
  status: UltravoxWebhookStatus;
  statusChangedAt: Date | null;
  recentFailures: UltravoxWebhookFailure[];
}

export function webhookHealth(webhook: UltravoxWebhook): WebhookHealth {
  return {
    // Ultravox documents `normal` and `unhealthy`; anything else it may add is not a sign of trouble.
    status: webhook.status === 'unhealthy' ? 'unhealthy' : 'normal',
    statusChangedAt: dateOrNull(webhook.lastStatusChange),
    recentFailures: (Array.isArray(webhook.recentFailures) ? webhook.recentFailures : [])
      .slice(-FAILURES_SHOWN)
      .map(failureOf),
  };
}

/**
 * The account's concurrent-call limit; null when Ultravox does not report one (the agency's cap is then
 * MAX_CONCURRENT_CALLS_PER_AGENCY alone).
 */
export function accountLimit(account: UltravoxAccount | null | undefined): number | null {
  const allowed = account?.allowedConcurrentCalls;
  return typeof allowed === 'number' && Number.isInteger(allowed) && allowed >= 0 ? allowed : null;
}

/** The shape of a failure is not documented: a time and a description are taken from what is there. */
function failureOf(item: unknown): UltravoxWebhookFailure {
  if (typeof item === 'string') return { at: null, detail: shortText(item) };
  if (typeof item !== 'object' || item === null) return { at: null, detail: null };
  const fields = item as Record<string, unknown>;
  const at = ['timestamp', 'time', 'created', 'at'].map((k) => fields[k]).find((v) => typeof v === 'string');
  const detail = ['error', 'reason', 'message', 'detail', 'statusCode', 'status']
    .map((k) => fields[k])
    .find((v) => typeof v === 'string' || typeof v === 'number');
  return {
    at: dateOrNull(at)?.toISOString() ?? null,
    detail: shortText(detail === undefined ? JSON.stringify(item) : String(detail)),
  };
}

/** At most DETAIL_MAX characters, storable (a cut through a surrogate pair, a NUL: U+FFFD). */
function shortText(text: string): string {
  return storableText(text.slice(0, DETAIL_MAX));
}

function dateOrNull(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}
