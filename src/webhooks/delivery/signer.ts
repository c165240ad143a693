import { createHmac } from 'node:crypto';

/** `whsec_<base64>` → the HMAC key bytes (Standard Webhooks). */
function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

/**
 * The `webhook-signature` header value: one `v1,<base64>` per secret, space-separated, over
 * `<webhook-id>.<webhook-timestamp>.<body>` (reference/webhook-signing.md).
 */
export function standardWebhookSignature(
  secrets: string[],
  id: string,
  timestamp: number,
  body: string,
): string {
  const content = `${id}.${timestamp}.${body}`;
  return secrets
    .map(
      (secret) => `v1,${createHmac('sha256', standardKey(secret)).update(content, 'utf8').digest('base64')}`,
    )
    .join(' ');
}

/** `X-Signature`: lowercase hex HMAC-SHA256 of the raw body, keyed by the UTF-8 string given (CONTRACT §6). */
export function xSignature(key: string, body: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(body, 'utf8').digest('hex');
}
