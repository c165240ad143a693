import { randomBytes } from 'node:crypto';
import { Clock } from '../../common/clock';
import { buildAppConfig } from '../../config/app-config';
import type { Call } from '../call.entity';
import { RecordingLinks } from './recording-links';

const CALL = {
  id: '6f1c2d3e-0000-4000-8000-000000000001',
  status: 'completed',
  recordingEnabled: true,
} as Call;
const key = () => randomBytes(32).toString('base64');

class FixedClock extends Clock {
  constructor(public at: number) {
    super();
  }
  override now(): Date {
    return new Date(this.at);
  }
}

function links(env: Record<string, string>, clock: Clock) {
  const config = buildAppConfig({
    JWT_SECRET: 'x'.repeat(32),
    PUBLIC_BASE_URL: 'https://sb.example.com/',
    RECORDING_LINK_TTL: '1h',
    ...env,
  });
  return new RecordingLinks(config, clock);
}

function parts(url: string): [string, string] {
  const query = new URL(url).searchParams;
  return [query.get('expires')!, query.get('signature')!];
}

describe('RecordingLinks', () => {
  const current = key();
  const clock = new FixedClock(Date.parse('2026-12-03T06:00:00Z'));
  const signer = links({ ENCRYPTION_KEY: current }, clock);

  it('hands out PUBLIC_BASE_URL/api/v1/recordings/<id> expiring RECORDING_LINK_TTL from now', () => {
    const url = signer.urlFor(CALL)!;
    expect(url.startsWith(`https://sb.example.com/api/v1/recordings/${CALL.id}?expires=`)).toBe(true);
    expect(Number(parts(url)[0]) * 1000).toBe(clock.at + 3_600_000);
  });

  it('no link for a call not recorded or that did not complete', () => {
    expect(signer.urlFor({ ...CALL, recordingEnabled: false })).toBeNull();
    expect(signer.urlFor({ ...CALL, status: 'failed' })).toBeNull();
  });

  it('valid until it expires, then expired; any change to the call, expiry or signature is invalid', () => {
    const [expires, signature] = parts(signer.urlFor(CALL)!);
    expect(signer.verify(CALL.id, expires, signature)).toBe('valid');
    expect(signer.verify('6f1c2d3e-0000-4000-8000-000000000002', expires, signature)).toBe('invalid');
    expect(signer.verify(CALL.id, String(Number(expires) + 1), signature)).toBe('invalid');
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`;
    expect(signer.verify(CALL.id, expires, flipped)).toBe('invalid');
    expect(signer.verify(CALL.id, undefined, signature)).toBe('invalid');
    expect(signer.verify(CALL.id, expires, undefined)).toBe('invalid');
    expect(signer.verify(CALL.id, '-1', signature)).toBe('invalid');
    const later = links({ ENCRYPTION_KEY: current }, new FixedClock(Number(expires) * 1000));
    expect(later.verify(CALL.id, expires, signature)).toBe('expired');
  });

  it('a link made under a key now in ENCRYPTION_KEYS_PREVIOUS still works; one under an unknown key does not', () => {
    const [expires, signature] = parts(signer.urlFor(CALL)!);
    const rotated = links({ ENCRYPTION_KEY: key(), ENCRYPTION_KEYS_PREVIOUS: current }, clock);
    expect(rotated.verify(CALL.id, expires, signature)).toBe('valid');
    const stranger = links({ ENCRYPTION_KEY: key() }, clock);
    expect(stranger.verify(CALL.id, expires, signature)).toBe('invalid');
  });
});
