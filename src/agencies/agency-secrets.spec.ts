import { randomBytes, randomUUID } from 'node:crypto';
import { SecretBox } from '../common/crypto/secret-box';
import type { CacheInvalidation } from '../common/redis/cache-invalidation';
import type { AgenciesRepository, AgencySecretsRow } from './agencies.repository';
import { AGENCY_SECRETS_TTL_MS, AgencySecrets, secretDigest } from './agency-secrets';

/** AgenciesRepository over `rows` (id → stored secrets), reads and updates recorded. */
function fakeAgencies(rows: Map<string, Partial<AgencySecretsRow>>) {
  const reads: string[] = [];
  const updates: [string, Record<string, unknown>][] = [];
  const failNext = { count: 0 };
  const repository = {
    secrets: jest.fn(async (id: string): Promise<AgencySecretsRow | null> => {
      reads.push(id);
      if (failNext.count > 0) {
        failNext.count -= 1;
        throw new Error('connection reset');
      }
      const row = rows.get(id);
      return row
        ? {
            id,
            ingest_secret_encrypted: 'enc',
            ultravox_signing_secret_encrypted: null,
            ultravox_api_key_encrypted: null,
            ...row,
          }
        : null;
    }),
    update: jest.fn(async (id: string, changes: Record<string, unknown>) => {
      updates.push([id, changes]);
    }),
  };
  return { repository: repository as unknown as AgenciesRepository, reads, updates, failNext };
}

/** A SecretBox that "decrypts" `x` to `plain-x`, decryptions counted. */
function fakeBox() {
  const decrypt = jest.fn((stored: string) => `plain-${stored}`);
  return { box: { decrypt } as unknown as SecretBox, decrypt };
}

/** What CacheInvalidation delivers: `announce(topic, key)` stands for any process's publish. */
function fakeInvalidation() {
  const listeners: [string, (key: string) => void][] = [];
  const published: [string, string][] = [];
  const announce = (topic: string, key: string) =>
    listeners.filter(([t]) => t === topic).forEach(([, listener]) => listener(key));
  const invalidation = {
    on: (topic: string, listener: (key: string) => void) => listeners.push([topic, listener]),
    publish: async (topic: string, key: string) => {
      published.push([topic, key]);
      announce(topic, key);
    },
  } as unknown as CacheInvalidation;
  return { invalidation, announce, published };
}

function newSecrets(
  repository: AgenciesRepository,
  box = fakeBox().box,
  invalidation = fakeInvalidation().invalidation,
) {
  const secrets = new AgencySecrets(box, repository, invalidation);
  secrets.onModuleInit();
  return secrets;
}

describe('AgencySecrets', () => {
  const known = randomUUID();
  let db: ReturnType<typeof fakeAgencies>;
  let secrets: AgencySecrets;

  beforeEach(() => {
    db = fakeAgencies(
      new Map([[known, { ingest_secret_encrypted: 'enc-1', ultravox_signing_secret_encrypted: 'sig-1' }]]),
    );
    secrets = newSecrets(db.repository);
  });
  afterEach(() => jest.restoreAllMocks());

  describe('encryption contexts', () => {
    const box = new SecretBox([randomBytes(32)]);
    const real = () => new AgencySecrets(box, fakeAgencies(new Map()).repository);

    it('binds each kind to the context its stored values were written under', () => {
      const agencyId = randomUUID();
      const endpointId = randomUUID();
      const s = real();
      for (const kind of [
        'ingest_secret',
        'ultravox_signing_secret',
        'ultravox_api_key',
        'api_key',
      ] as const) {
        expect(box.decrypt(s.encrypt(kind, agencyId, 'v'), `agency:${agencyId}:${kind}`)).toBe('v');
      }
      expect(
        box.decrypt(s.encrypt('endpoint_secret', endpointId, 'v'), `webhook_endpoint:${endpointId}:secret`),
      ).toBe('v');
    });

    it('refuses a value read as another kind or for another owner', () => {
      const agencyId = randomUUID();
      const s = real();
      const stored = s.encrypt('ultravox_api_key', agencyId, 'key');
      expect(s.decrypt('ultravox_api_key', agencyId, stored)).toBe('key');
      expect(() => s.decrypt('api_key', agencyId, stored)).toThrow(/authentication/);
      expect(() => s.decrypt('ultravox_api_key', randomUUID(), stored)).toThrow(/authentication/);
    });
  });

  it('decrypts each ciphertext once', () => {
    const { box, decrypt } = fakeBox();
    secrets = newSecrets(db.repository, box);
    const endpointId = randomUUID();
    expect(secrets.endpointSecret(endpointId, 'a')).toBe('plain-a');
    expect(secrets.endpointSecret(endpointId, 'a')).toBe('plain-a');
    expect(secrets.decrypt('api_key', known, 'a')).toBe('plain-a');
    expect(secrets.endpointSecret(endpointId, 'b')).toBe('plain-b');
    expect(decrypt.mock.calls).toEqual([
      ['a', `webhook_endpoint:${endpointId}:secret`],
      ['a', `agency:${known}:api_key`],
      ['b', `webhook_endpoint:${endpointId}:secret`],
    ]);
  });

  it("reads the agency's Ultravox key as stored now, and answers null when none is stored", async () => {
    expect(await secrets.ultravoxApiKey(known)).toBeNull();
    db = fakeAgencies(new Map([[known, { ultravox_api_key_encrypted: 'uv' }]]));
    secrets = newSecrets(db.repository);
    expect(await secrets.ultravoxApiKey(known)).toBe('plain-uv');
    expect(await secrets.ultravoxApiKey(randomUUID())).toBeNull();
  });

  describe('ingest secrets', () => {
    it('reads an agency once and serves it decrypted from the cache; a fresh lookup reads it again', async () => {
      const first = await secrets.ingestSecrets(known);
      expect(first).toEqual({
        cached: false,
        secrets: {
          agencyId: known,
          ingestSecretDigest: secretDigest('plain-enc-1'),
          signingSecret: 'plain-sig-1',
        },
      });
      expect(await secrets.ingestSecrets(known.toUpperCase())).toEqual({ ...first, cached: true });
      expect(db.reads).toHaveLength(1);
      expect((await secrets.ingestSecrets(known, { fresh: true })).cached).toBe(false);
      expect(db.reads).toHaveLength(2);
    });

    it('reads the agency again once AGENCY_SECRETS_TTL_MS has passed', async () => {
      const now = Date.now();
      const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
      await secrets.ingestSecrets(known);
      clock.mockReturnValue(now + AGENCY_SECRETS_TTL_MS - 1);
      expect((await secrets.ingestSecrets(known)).cached).toBe(true);
      clock.mockReturnValue(now + AGENCY_SECRETS_TTL_MS);
      expect((await secrets.ingestSecrets(known)).cached).toBe(false);
      expect(db.reads).toHaveLength(2);
    });

    it('reads an agency again as soon as any process announces a change of its secrets', async () => {
      const { invalidation, announce } = fakeInvalidation();
      secrets = newSecrets(db.repository, fakeBox().box, invalidation);
      await secrets.ingestSecrets(known);
      announce('some-other-cache', known);
      expect((await secrets.ingestSecrets(known)).cached).toBe(true);
      announce('agency-secrets', known.toUpperCase());
      expect((await secrets.ingestSecrets(known)).cached).toBe(false);
      expect(db.reads).toHaveLength(2);
    });

    it('shares one read between concurrent lookups', async () => {
      const results = await Promise.all([
        secrets.ingestSecrets(known),
        secrets.ingestSecrets(known),
        secrets.ingestSecrets(known),
      ]);
      expect(results.map((r) => r.secrets?.agencyId)).toEqual([known, known, known]);
      expect(db.reads).toHaveLength(1);
    });

    it('never caches an unknown agency, and does not query for an id that is not a uuid', async () => {
      const unknown = randomUUID();
      expect(await secrets.ingestSecrets(unknown)).toEqual({ secrets: null, cached: false });
      expect(await secrets.ingestSecrets(unknown)).toEqual({ secrets: null, cached: false });
      expect(await secrets.ingestSecrets('not-a-uuid')).toEqual({ secrets: null, cached: false });
      expect(db.reads).toEqual([unknown, unknown]);
    });

    it('does not cache a failed read', async () => {
      db.failNext.count = 1;
      await expect(secrets.ingestSecrets(known)).rejects.toThrow('connection reset');
      expect((await secrets.ingestSecrets(known)).secrets?.agencyId).toBe(known);
      expect(db.reads).toHaveLength(2);
    });

    it('keeps at most 10,000 agencies, forgetting the longest-cached first', async () => {
      const ids = Array.from({ length: 10_001 }, () => randomUUID());
      db = fakeAgencies(new Map(ids.map((id) => [id, {}])));
      secrets = newSecrets(db.repository);
      for (const id of ids) await secrets.ingestSecrets(id);
      expect((await secrets.ingestSecrets(ids[10_000])).cached).toBe(true);
      expect((await secrets.ingestSecrets(ids[1])).cached).toBe(true);
      expect((await secrets.ingestSecrets(ids[0])).cached).toBe(false);
    });
  });

  it('stores secrets encrypted in their columns with the other changes, then announces the change', async () => {
    const box = new SecretBox([randomBytes(32)]);
    const { invalidation, published } = fakeInvalidation();
    const ingest = box.encrypt('url-secret', `agency:${known}:ingest_secret`);
    db = fakeAgencies(new Map([[known, { ingest_secret_encrypted: ingest }]]));
    secrets = newSecrets(db.repository, box, invalidation);
    await secrets.ingestSecrets(known);
    const at = new Date();
    await secrets.store(
      known,
      { ultravox_api_key: 'key', ultravox_signing_secret: null },
      { ultravoxApiKeyAddedAt: at },
    );
    const [[id, changes]] = db.updates;
    expect(id).toBe(known);
    expect(changes).toEqual({
      ultravoxApiKeyEncrypted: expect.any(String),
      ultravoxSigningSecretEncrypted: null,
      ultravoxApiKeyAddedAt: at,
    });
    expect(box.decrypt(changes.ultravoxApiKeyEncrypted as string, `agency:${known}:ultravox_api_key`)).toBe(
      'key',
    );
    expect(published).toEqual([['agency-secrets', known]]);
    expect((await secrets.ingestSecrets(known)).cached).toBe(false);
  });
});
