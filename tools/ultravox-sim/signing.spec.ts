import { createHmac } from 'node:crypto';
import { signUltravoxWebhook, ultravoxSignatureHeader } from './signing';

describe('Ultravox webhook signing', () => {
  // Vector from reference/webhook-signing.md ("Ultravox (inbound)").
  const body =
    '{"event":"call.ended","call":{"callId":"8f2d6c1e-4b7a-4f0e-9a51-3c2b1d0e9f7a","endReason":"hangup"}}';
  const timestamp = '2026-05-04T14:05:03.120551+00:00';

  it('matches the reference vector', () => {
    expect(signUltravoxWebhook('uvx-secret-1', body, timestamp)).toBe(
      '255f5905afb66299ad9f6a5665636b43683fcebb06edcb1636ea43e1d532d10f',
    );
  });

  it('lists one signature per secret, comma-separated, in secret order', () => {
    const header = ultravoxSignatureHeader(['uvx-secret-1', 'uvx-secret-2'], body, timestamp);
    const expected = (secret: string): string =>
      createHmac('sha256', secret)
        .update(body + timestamp)
        .digest('hex');
    expect(header.split(',')).toEqual([expected('uvx-secret-1'), expected('uvx-secret-2')]);
  });
});
