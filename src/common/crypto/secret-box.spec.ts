import { randomBytes } from 'node:crypto';
import { SecretBox, SecretBoxError } from './secret-box';

describe('SecretBox (AES-256-GCM)', () => {
  const current = randomBytes(32);
  const previous = randomBytes(32);

  it('round-trips a secret and never stores the plaintext', () => {
    const box = new SecretBox([current]);
    const stored = box.encrypt('Zk3pQ9aB.abcdefghijklmnopqrstuvwxyz012345', 'agency:1:ultravox_api_key');
    expect(stored).not.toContain('Zk3pQ9aB');
    expect(box.decrypt(stored, 'agency:1:ultravox_api_key')).toBe(
      'Zk3pQ9aB.abcdefghijklmnopqrstuvwxyz012345',
    );
  });

  it('uses a fresh IV each time', () => {
    const box = new SecretBox([current]);
    expect(box.encrypt('same', 'c')).not.toBe(box.encrypt('same', 'c'));
  });

  it('still decrypts a value written under a previous key after rotation', () => {
    const stored = new SecretBox([previous]).encrypt('old secret', 'c');
    const rotated = new SecretBox([current, previous]);
    expect(rotated.decrypt(stored, 'c')).toBe('old secret');
    expect(rotated.needsReencryption(stored)).toBe(true);
    expect(rotated.needsReencryption(rotated.encrypt('x', 'c'))).toBe(false);
  });

  it('rejects a value whose key is no longer configured', () => {
    const stored = new SecretBox([previous]).encrypt('old secret', 'c');
    expect(() => new SecretBox([current]).decrypt(stored, 'c')).toThrow(/not configured/);
  });

  it('rejects a tampered ciphertext', () => {
    const box = new SecretBox([current]);
    const parts = box.encrypt('secret value', 'c').split(':');
    const ct = Buffer.from(parts[4], 'base64url');
    ct[0] ^= 0x01;
    parts[4] = ct.toString('base64url');
    expect(() => box.decrypt(parts.join(':'), 'c')).toThrow(SecretBoxError);
  });

  it('rejects a value moved to another context', () => {
    const box = new SecretBox([current]);
    const stored = box.encrypt('secret value', 'agency:1:ultravox_api_key');
    expect(() => box.decrypt(stored, 'agency:2:ultravox_api_key')).toThrow(/authentication/);
  });
});
