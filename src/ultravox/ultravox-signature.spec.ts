import { ultravoxSignature, verifyUltravoxSignature } from './ultravox-signature';

// Vector from reference/webhook-signing.md.
const SECRET = 'uvx-secret-1';
const TIMESTAMP = '2026-05-04T14:05:03.120551+00:00';
const BODY = Buffer.from(
  '{"event":"call.ended","call":{"callId":"8f2d6c1e-4b7a-4f0e-9a51-3c2b1d0e9f7a","endReason":"hangup"}}',
);
const SIGNATURE = '255f5905afb66299ad9f6a5665636b43683fcebb06edcb1636ea43e1d532d10f';
const AT = Date.parse(TIMESTAMP);

describe('Ultravox webhook signatures', () => {
  it('matches the reference vector', () => {
    expect(ultravoxSignature(SECRET, BODY, TIMESTAMP)).toBe(SIGNATURE);
  });

  it('accepts any matching signature among several, for any of the secrets', () => {
    const header = `${'0'.repeat(64)}, ${SIGNATURE}`;
    expect(verifyUltravoxSignature(['other', SECRET], BODY, header, TIMESTAMP, AT + 1000)).toEqual({
      ok: true,
    });
  });

  it('rejects a wrong signature, a changed body and a missing header', () => {
    expect(verifyUltravoxSignature([SECRET], BODY, 'f'.repeat(64), TIMESTAMP, AT).ok).toBe(false);
    expect(
      verifyUltravoxSignature([SECRET], Buffer.from(`${BODY.toString()} `), SIGNATURE, TIMESTAMP, AT).ok,
    ).toBe(false);
    expect(verifyUltravoxSignature([SECRET], BODY, undefined, TIMESTAMP, AT).ok).toBe(false);
  });

  it('rejects stale and far-future timestamps', () => {
    expect(verifyUltravoxSignature([SECRET], BODY, SIGNATURE, TIMESTAMP, AT + 61_000)).toEqual({
      ok: false,
      reason: 'timestamp outside the accepted window',
    });
    expect(verifyUltravoxSignature([SECRET], BODY, SIGNATURE, TIMESTAMP, AT - 31_000).ok).toBe(false);
  });

  it('reads a timestamp without a zone as UTC', () => {
    const naive = '2026-05-04T14:05:03.120551';
    const signature = ultravoxSignature(SECRET, BODY, naive);
    expect(verifyUltravoxSignature([SECRET], BODY, signature, naive, AT + 500).ok).toBe(true);
  });
});
