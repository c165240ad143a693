import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import type { Call } from '../call.entity';

/** HKDF `info` of the links' key: a key of its own, derived from ENCRYPTION_KEY, used for nothing else. */
const KEY_INFO = 'switchboard/recording-links/v1';
const EXPIRES = /^\d{1,12}$/;
/** base64url of an HMAC-SHA256: 43 characters. */
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

export type LinkVerdict = 'valid' | 'invalid' | 'expired';

/** Whether a call has a recording to serve: Ultravox was asked to record it, and it connected and ended. */
export function hasRecording(call: Pick<Call, 'status' | 'recordingEnabled'>): boolean {
  return call.recordingEnabled && call.status === 'completed';
}

/**
 * The signed `recording_url` (CONTRACT §5.6): `<PUBLIC_BASE_URL>/api/v1/recordings/<call id>
 * ?expires=<unix seconds>&signature=<base64url HMAC-SHA256 of "<call id>.<expires>">`, valid for
 * RECORDING_LINK_TTL from when it is made. The key is derived (HKDF-SHA256) from ENCRYPTION_KEY;
 * links made under a key now in ENCRYPTION_KEYS_PREVIOUS keep working until they expire.
 */
@Injectable()
export class RecordingLinks {
  /** Current key first, then the keys of ENCRYPTION_KEYS_PREVIOUS. */
  private readonly keys: Buffer[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.keys = config.encryptionKeys.map((key) =>
      Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), KEY_INFO, 32)),
    );
  }

  /** A fresh link for the call's recording, or null when it has none. */
  urlFor(call: Pick<Call, 'id' | 'status' | 'recordingEnabled'>): string | null {
    if (!hasRecording(call)) return null;
    const expires = Math.floor((this.clock.now().getTime() + this.config.recordings.linkTtlMs) / 1000);
    const query = new URLSearchParams({
      expires: String(expires),
      signature: sign(this.keys[0], call.id, expires),
    });
    return `${this.config.publicBaseUrl}/api/v1/recordings/${call.id}?${query.toString()}`;
  }

  /** Checks a link's signature (constant time) and then its expiry. */
  verify(callId: string, expires: string | undefined, signature: string | undefined): LinkVerdict {
    if (!expires || !signature || !EXPIRES.test(expires) || !SIGNATURE.test(signature)) return 'invalid';
    // Compared as text, so only the one canonical encoding of a signature is accepted.
    const given = Buffer.from(signature, 'ascii');
    const valid = this.keys.some((key) =>
      timingSafeEqual(Buffer.from(sign(key, callId, Number(expires)), 'ascii'), given),
    );
    if (!valid) return 'invalid';
    return Number(expires) * 1000 <= this.clock.now().getTime() ? 'expired' : 'valid';
  }
}

function sign(key: Buffer, callId: string, expires: number): string {
  return createHmac('sha256', key).update(`${callId}.${expires}`).digest('base64url');
}
