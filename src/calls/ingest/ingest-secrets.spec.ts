import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { SecretBox } from '../../common/crypto/secret-box';
import type { CacheInvalidation } from '../../common/redis/cache-invalidation';
import {
  AGENCY_SECRETS_CHANGED,
  INGEST_SECRETS_TTL_MS,
  IngestSecretsCache,
  secretDigest,
} from './ingest-secrets';

/** A database holding `agencies` (id → encrypted ingest secret), reads counted. */
function fakeDatabase(agencies: Map<string, string>) {
  const reads: string[] = [];
  const failNext = { count: 0 };
  const query = jest.fn(async ({ values }: { values: unknown[] }) => {
    const id = values[0] as string;
    reads.push(id);
    if (failNext.count > 0) {
      failNext.count -= 1;
      throw new Error('connection reset');
    }
    const encrypted = agencies.get(id);
    const rows = encrypted
      ? [{ id, ingest_secret_encrypted: encrypted, ultravox_signing_secret_encrypted: `sig-${encrypted}` }]
      : [];
    return { rows };
  });
  const dataSource = {
    driver: {},
    createQueryRunner: () => ({ connect: async () => ({ query }), release: async () => undefined }),
  } as unknown as DataSource;
  return { dataSource, reads, failNext };
}

const secretBox = { decrypt: (value: string) => `plain-${value}` } as unknown as SecretBox;

/** What CacheInvalidation delivers to this process: `announce(topic, key)` stands for any process's publish. */
function fakeInvalidation() {
  const listeners: [string, (key: string) => void][] = [];
  const invalidation = {
    on: (topic: string, listener: (key: string) => void) => listeners.push([topic, listener]),
  } as unknown as CacheInvalidation;
  const announce = (topic: string, key: string) =>
    listeners.filter(([t]) => t === topic).forEach(([, listener]) => listener(key));
  return { invalidation, announce };
}

function newCache(dataSource: DataSource, invalidation = fakeInvalidation().invalidation) {
  const cache = new IngestSecretsCache(dataSource, secretBox, invalidation);
  cache.onModuleInit();
  return cache;
}

describe('IngestSecretsCache', () => {
  const known = randomUUID();
  let db: ReturnType<typeof fakeDatabase>;
  let cache: IngestSecretsCache;

  beforeEach(() => {
    db = fakeDatabase(new Map([[known, 'enc-1']]));
    cache = newCache(db.dataSource);
  });
  afterEach(() => jest.restoreAllMocks());

  it('reads an agency once and serves it decrypted from the cache; a fresh lookup reads it again', async () => {
    const first = await cache.lookup(known);
    expect(first).toEqual({
      cached: false,
      secrets: {
        agencyId: known,
        ingestSecretDigest: secretDigest('plain-enc-1'),
        signingSecret: 'plain-sig-enc-1',
      },
    });
    expect(await cache.lookup(known.toUpperCase())).toEqual({ ...first, cached: true });
    expect(db.reads).toHaveLength(1);
    expect((await cache.lookup(known, true)).cached).toBe(false);
    expect(db.reads).toHaveLength(2);
  });

  it('reads the agency again once the TTL has passed', async () => {
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    await cache.lookup(known);
    clock.mockReturnValue(now + INGEST_SECRETS_TTL_MS - 1);
    expect((await cache.lookup(known)).cached).toBe(true);
    clock.mockReturnValue(now + INGEST_SECRETS_TTL_MS);
    expect((await cache.lookup(known)).cached).toBe(false);
    expect(db.reads).toHaveLength(2);
  });

  it('reads an agency again as soon as a change of its secrets is announced', async () => {
    const { invalidation, announce } = fakeInvalidation();
    cache = newCache(db.dataSource, invalidation);
    await cache.lookup(known);
    announce('some-other-cache', known);
    expect((await cache.lookup(known)).cached).toBe(true);
    announce(AGENCY_SECRETS_CHANGED, known.toUpperCase());
    expect((await cache.lookup(known)).cached).toBe(false);
    expect(db.reads).toHaveLength(2);
  });

  it('shares one read between concurrent lookups', async () => {
    const results = await Promise.all([cache.lookup(known), cache.lookup(known), cache.lookup(known)]);
    expect(results.map((r) => r.secrets?.agencyId)).toEqual([known, known, known]);
    expect(db.reads).toHaveLength(1);
  });

  it('never caches an unknown agency, and does not query for an id that is not a uuid', async () => {
    const unknown = randomUUID();
    expect(await cache.lookup(unknown)).toEqual({ secrets: null, cached: false });
    expect(await cache.lookup(unknown)).toEqual({ secrets: null, cached: false });
    expect(await cache.lookup('not-a-uuid')).toEqual({ secrets: null, cached: false });
    expect(db.reads).toEqual([unknown, unknown]);
  });

  it('does not cache a failed read', async () => {
    db.failNext.count = 1;
    await expect(cache.lookup(known)).rejects.toThrow('connection reset');
    expect((await cache.lookup(known)).secrets?.agencyId).toBe(known);
    expect(db.reads).toHaveLength(2);
  });

  it('keeps at most 10,000 agencies, forgetting the longest-cached first', async () => {
    const ids = Array.from({ length: 10_001 }, () => randomUUID());
    db = fakeDatabase(new Map(ids.map((id) => [id, 'enc'])));
    cache = newCache(db.dataSource);
    for (const id of ids) await cache.lookup(id);
    expect((await cache.lookup(ids[10_000])).cached).toBe(true);
    expect((await cache.lookup(ids[1])).cached).toBe(true);
    expect((await cache.lookup(ids[0])).cached).toBe(false);
  });
});
