import { Webhook } from 'standardwebhooks';
import { standardWebhookSignature, xSignature } from './signer';

// Vectors from reference/webhook-signing.md.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const CALL_BODY = '{"event":"call.completed","call_id":"0b7e6a9e-3d2c-4c55-9b1e-2f0d6a1c8e11"}';

describe('outbound webhook signatures', () => {
  it('matches the Standard Webhooks vector', () => {
    expect(
      standardWebhookSignature([SECRET], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('matches the second Standard Webhooks vector', () => {
    expect(standardWebhookSignature([SECRET], 'evt_2KWPBgLlAfxdpx2AI54pPJ85f4W', 1674087231, CALL_BODY)).toBe(
      'v1,nFLtOFn617L+5GqnpblxwFCL+QX+oL5THahPG18rPRs=',
    );
  });

  it('matches the X-Signature vector', () => {
    expect(xSignature(SECRET, CALL_BODY)).toBe(
      'b9dc34f4b414009767d3c990377b22d827459458f52f067e77059bcc753377f9',
    );
  });

  it('signs with every secret during rotation, each verifiable by the standardwebhooks package', () => {
    const next = 'whsec_' + Buffer.from('another-secret-of-32-bytes-long!').toString('base64');
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = standardWebhookSignature([next, SECRET], 'evt_1', timestamp, CALL_BODY);
    expect(signature.split(' ')).toHaveLength(2);
    const headers = {
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    };
    for (const secret of [SECRET, next]) {
      expect(new Webhook(secret).verify(CALL_BODY, headers)).toEqual(JSON.parse(CALL_BODY));
    }
  });
});
