import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;

export class SecretBoxError extends Error {}

/** Short public id of a key, stored with each value so rotation knows which key wrote it. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * AES-256-GCM for secrets at rest. A stored value is `v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64url parts).
 * `context` is bound as additional authenticated data, so a value copied to another row or column fails.
 */
export class SecretBox {
  private readonly byId: Map<string, Buffer>;

  /** keys[0] encrypts; every key decrypts (ENCRYPTION_KEYS_PREVIOUS during rotation). */
  constructor(private readonly keys: Buffer[]) {
    if (keys.length === 0 || keys.some((k) => k.length !== 32))
      throw new SecretBoxError('AES-256 keys are 32 bytes');
    this.byId = new Map(keys.map((k) => [keyId(k), k]));
  }

  encrypt(plaintext: string, context: string): string {
    const key = this.keys[0];
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'));
    return [VERSION, keyId(key), ...parts].join(':');
  }

  decrypt(stored: string, context: string): string {
    const [version, id, iv, tag, ciphertext] = stored.split(':');
    if (version !== VERSION || ciphertext === undefined)
      throw new SecretBoxError('unrecognised ciphertext format');
    const key = this.byId.get(id);
    if (!key) throw new SecretBoxError(`value was encrypted with key ${id}, which is not configured`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SecretBoxError('ciphertext failed authentication (tampered, or wrong key/context)');
    }
  }

  /** True when the value was written under an older key and should be re-encrypted. */
  needsReencryption(stored: string): boolean {
    return stored.split(':')[1] !== keyId(this.keys[0]);
  }
}
