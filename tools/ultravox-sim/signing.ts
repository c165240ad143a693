import { createHmac } from 'node:crypto';

/**
 * Ultravox's inbound signature (reference/webhook-signing.md): hex HMAC-SHA256 keyed with the secret's
 * UTF-8 bytes over the raw body immediately followed by the timestamp header string.
 */
export function signUltravoxWebhook(secret: string, rawBody: string, timestamp: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(Buffer.from(rawBody, 'utf8'))
    .update(Buffer.from(timestamp, 'utf8'))
    .digest('hex');
}

/** One signature per secret, comma-separated, so receivers can rotate secrets without a gap. */
export function ultravoxSignatureHeader(
  secrets: readonly string[],
  rawBody: string,
  timestamp: string,
): string {
  return secrets.map((secret) => signUltravoxWebhook(secret, rawBody, timestamp)).join(',');
}
