import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { createHash, randomBytes } from 'node:crypto';
import { SecretBox } from '../common/crypto/secret-box';
import { CacheInvalidation, CacheTopic } from '../common/redis/cache-invalidation';
import { AgenciesRepository, AgencySecretsRow } from './agencies.repository';
import type { Agency } from './agency.entity';

/** Every kind of secret Switchboard stores encrypted, and whose it is (the owner id of its context). */
export type AgencySecretKind = 'ingest_secret' | 'ultravox_signing_secret' | 'ultravox_api_key' | 'api_key';
export type SecretKind = AgencySecretKind | 'endpoint_secret';

/**
 * The encryption context of a secret, bound to its ciphertext as additional authenticated data so a
 * value copied to another row or column does not decrypt. The one place contexts are built: these
 * strings are part of every stored value, so they never change.
 */
function secretContext(kind: SecretKind, ownerId: string): string {
  return kind === 'endpoint_secret' ? `webhook_endpoint:${ownerId}:secret` : `agency:${ownerId}:${kind}`;
}

/** The agencies columns holding each agency secret. */
const COLUMNS = {
  ingest_secret: 'ingestSecretEncrypted',
  ultravox_signing_secret: 'ultravoxSigningSecretEncrypted',
  ultravox_api_key: 'ultravoxApiKeyEncrypted',
} as const satisfies Partial<Record<AgencySecretKind, keyof Agency>>;

/** New values of an agency's secrets; null removes one (the ingest URL secret always exists). */
export interface AgencySecretChanges {
  ingest_secret?: string;
  ultravox_signing_secret?: string | null;
  ultravox_api_key?: string | null;
}

/** What the ingest route checks a request against, decrypted. */
export interface IngestSecrets {
  /** As stored (lowercase), whatever case the URL used. */
  agencyId: string;
  /** sha256 of the URL secret: compared in constant time with the digest of the one a request carries. */
  ingestSecretDigest: Buffer;
  /** Set when the agency registered its Ultravox webhook: every request must then be signed with it. */
  signingSecret: string | null;
}

export interface SecretsLookup {
  /** null: no such agency (never cached). */
  secrets: IngestSecrets | null;
  /** Read before this request arrived: a request that does not match it must be checked again fresh. */
  cached: boolean;
}

/**
 * How long an agency's secrets are kept without reading them again. Short: a change is announced to
 * every process at once (cross-process invalidation), and this bounds how long a process that missed
 * the announcement (Redis unreachable) keeps the old secrets.
 */
export const AGENCY_SECRETS_TTL_MS = 5_000;
/** Published with the agency id whenever one of its secrets changes. */
const CHANGED_TOPIC: CacheTopic = 'agency-secrets';
/** Only existing agencies are kept, so this bounds memory even if agencies outnumber it. */
const MAX_CACHED_AGENCIES = 10_000;
/** Decrypted values kept; emptied when full: refilling costs one decryption per secret in use. */
const MAX_DECRYPTED = 10_000;

export const secretDigest = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function newEndpointSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * The one owner of agency secrets (the Ultravox API key, the ingest URL and Ultravox signing secrets,
 * API keys, webhook endpoints' signing secrets): encrypts and decrypts them under their typed context,
 * decrypts each ciphertext once (a rotation changes the ciphertext, so the memo never goes stale),
 * keeps agencies' ingest secrets for AGENCY_SECRETS_TTL_MS, and stores changes, announcing them to
 * every process so the old ingest secret is refused at once everywhere.
 */
@Injectable()
export class AgencySecrets implements OnModuleInit {
  private readonly decrypted = new Map<string, string>();
  private readonly ingest = new Map<string, { expiresAt: number; secrets: Promise<IngestSecrets | null> }>();

  constructor(
    private readonly box: SecretBox,
    private readonly agencies: AgenciesRepository,
    /** Absent in the operator CLI, which runs without Redis and keeps nothing in memory. */
    @Optional() private readonly invalidation?: CacheInvalidation,
  ) {}

  onModuleInit(): void {
    this.invalidation?.on(CHANGED_TOPIC, (agencyId) => this.ingest.delete(agencyId.toLowerCase()));
  }

  encrypt(kind: SecretKind, ownerId: string, plaintext: string): string {
    return this.box.encrypt(plaintext, secretContext(kind, ownerId));
  }

  /** Memoised: each ciphertext is decrypted once (docs/benchmarks.md#secrets-cache). */
  decrypt(kind: SecretKind, ownerId: string, stored: string): string {
    const context = secretContext(kind, ownerId);
    const key = `${context} ${stored}`;
    let plaintext = this.decrypted.get(key);
    if (plaintext === undefined) {
      plaintext = this.box.decrypt(stored, context);
      if (this.decrypted.size >= MAX_DECRYPTED) this.decrypted.clear();
      this.decrypted.set(key, plaintext);
    }
    return plaintext;
  }

  /** A webhook endpoint's signing secret. */
  endpointSecret(endpointId: string, stored: string): string {
    return this.decrypt('endpoint_secret', endpointId, stored);
  }

  /** The agency's Ultravox API key as stored now (a removed key is never used again); null when none. */
  async ultravoxApiKey(agencyId: string): Promise<string | null> {
    const row = await this.agencies.secrets(agencyId);
    if (!row?.ultravox_api_key_encrypted) return null;
    return this.decrypt('ultravox_api_key', row.id, row.ultravox_api_key_encrypted);
  }

  /**
   * The ingest route's secrets: from the cache when read less than AGENCY_SECRETS_TTL_MS ago; `fresh`
   * reads the agency again whatever the cache holds. Concurrent lookups of an agency not in the cache
   * share one read.
   */
  async ingestSecrets(agencyId: string, { fresh = false } = {}): Promise<SecretsLookup> {
    if (!isUUID(agencyId)) return { secrets: null, cached: false };
    const key = agencyId.toLowerCase();
    const entry = this.ingest.get(key);
    if (!fresh && entry && entry.expiresAt > Date.now())
      return { secrets: await entry.secrets, cached: true };
    return { secrets: await this.readIngest(key), cached: false };
  }

  /**
   * Writes the agency's secrets (encrypted; null clears one) with the `alongside` columns in one update,
   * then tells every process to forget what it kept of them.
   */
  async store(
    agencyId: string,
    secrets: AgencySecretChanges,
    alongside: Partial<Agency> = {},
  ): Promise<void> {
    const changes: Partial<Agency> = { ...alongside };
    for (const kind of Object.keys(COLUMNS) as (keyof AgencySecretChanges)[]) {
      const plaintext = secrets[kind];
      if (plaintext === undefined) continue;
      Object.assign(changes, {
        [COLUMNS[kind]]: plaintext === null ? null : this.encrypt(kind, agencyId, plaintext),
      });
    }
    await this.agencies.update(agencyId, changes);
    await this.invalidation?.publish(CHANGED_TOPIC, agencyId);
  }

  private readIngest(agencyId: string): Promise<IngestSecrets | null> {
    const secrets = this.agencies.secrets(agencyId).then((row) => row && this.toIngestSecrets(row));
    const entry = { expiresAt: Date.now() + AGENCY_SECRETS_TTL_MS, secrets };
    this.ingest.delete(agencyId);
    const oldest = this.ingest.keys().next();
    if (this.ingest.size >= MAX_CACHED_AGENCIES && !oldest.done) this.ingest.delete(oldest.value);
    this.ingest.set(agencyId, entry);
    // An unknown agency (it may be created later) or a failed read is not kept.
    const forget = () => {
      if (this.ingest.get(agencyId) === entry) this.ingest.delete(agencyId);
    };
    secrets.then((found) => found ?? forget(), forget);
    return secrets;
  }

  private toIngestSecrets(row: AgencySecretsRow): IngestSecrets {
    const signing = row.ultravox_signing_secret_encrypted;
    return {
      agencyId: row.id,
      ingestSecretDigest: secretDigest(this.decrypt('ingest_secret', row.id, row.ingest_secret_encrypted)),
      signingSecret: signing ? this.decrypt('ultravox_signing_secret', row.id, signing) : null,
    };
  }
}
