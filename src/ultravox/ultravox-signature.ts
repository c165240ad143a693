import { createHmac, timingSafeEqual } from 'node:crypto';

/** Ultravox retries for hours, but each attempt is signed afresh: an old timestamp is a replay. */
export const MAX_AGE_MS = 60_000;
export const MAX_FUTURE_SKEW_MS = 30_000;

export function ultravoxSignature(secret: string, rawBody: Buffer, timestamp: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(rawBody)
    .update(timestamp, 'utf8')
    .digest('hex');
}

/** ISO-8601; a timestamp without a zone is UTC (reference/ultravox-api.md). */
function parseTimestamp(value: string): number {
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(value.trim());
  return Date.parse(hasZone ? value : `${value}Z`);
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * Accepts when any comma-separated signature matches any of the agency's secrets (constant time) and
 * the timestamp is fresh (reference/ultravox-api.md, "Webhooks that Ultravox sends").
 */
export function verifyUltravoxSignature(
  secrets: string[],
  rawBody: Buffer,
  signatureHeader: string | undefined,
  timestampHeader: string | undefined,
  now = Date.now(),
): SignatureCheck {
  if (!signatureHeader || !timestampHeader)
    return { ok: false, reason: 'missing X-Ultravox-Webhook-Signature or -Timestamp' };
  const at = parseTimestamp(timestampHeader);
  if (Number.isNaN(at)) return { ok: false, reason: 'unreadable X-Ultravox-Webhook-Timestamp' };
  if (now - at > MAX_AGE_MS || at - now > MAX_FUTURE_SKEW_MS)
    return { ok: false, reason: 'timestamp outside the accepted window' };
  const given = signatureHeader
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => /^[0-9a-f]{64}$/.test(s))
    .map((s) => Buffer.from(s, 'hex'));
  for (const secret of secrets) {
    const expected = Buffer.from(ultravoxSignature(secret, rawBody, timestampHeader), 'hex');
    if (given.some((g) => timingSafeEqual(g, expected))) return { ok: true };
  }
  return { ok: false, reason: 'no signature matches' };
}
