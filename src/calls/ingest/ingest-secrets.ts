import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { isUUID } from 'class-validator';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { agencySecretContext } from '../../agencies/agencies.service';
import { SecretBox } from '../../common/crypto/secret-box';
import { CacheInvalidation } from '../../common/redis/cache-invalidation';
import { runSql, statement } from '../../database/sql';

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
 * Short: a change is announced to every API process at once (`AGENCY_SECRETS_CHANGED`), and this bounds
 * how long a process that missed the announcement (Redis unreachable) keeps the old secrets.
 */
export const INGEST_SECRETS_TTL_MS = 5_000;
/** Published with the agency id whenever its ingest URL secret or Ultravox signing secret changes. */
export const AGENCY_SECRETS_CHANGED = 'agency-ingest-secrets';
/** Only existing agencies are kept, so this bounds memory even if agencies outnumber it. */
const MAX_CACHED_AGENCIES = 10_000;

const SELECT_AGENCY_SECRETS = statement(
  'ingest_agency_secrets',
  `SELECT id, ingest_secret_encrypted, ultravox_signing_secret_encrypted FROM agencies WHERE id = $1`,
);

interface AgencySecretsRow {
  id: string;
  ingest_secret_encrypted: string;
  ultravox_signing_secret_encrypted: string | null;
}

export const secretDigest = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/**
 * The agencies' ingest and Ultravox signing secrets, decrypted and kept for a few seconds: reading and
 * decrypting them was a third of each ingest request's round trips. Concurrent requests for an agency
 * not in the cache share one read. An agency whose secrets change is dropped from every process's
 * cache when the change is published.
 */
@Injectable()
export class IngestSecretsCache implements OnModuleInit {
  private readonly entries = new Map<string, { expiresAt: number; secrets: Promise<IngestSecrets | null> }>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secretBox: SecretBox,
    private readonly invalidation: CacheInvalidation,
  ) {}

  onModuleInit(): void {
    this.invalidation.on(AGENCY_SECRETS_CHANGED, (agencyId) => this.entries.delete(agencyId.toLowerCase()));
  }

  /** From the cache when read less than the TTL ago; `fresh` reads the agency again whatever the cache holds. */
  async lookup(agencyId: string, fresh = false): Promise<SecretsLookup> {
    if (!isUUID(agencyId)) return { secrets: null, cached: false };
    const key = agencyId.toLowerCase();
    const entry = this.entries.get(key);
    if (!fresh && entry && entry.expiresAt > Date.now())
      return { secrets: await entry.secrets, cached: true };
    return { secrets: await this.read(key), cached: false };
  }

  private read(agencyId: string): Promise<IngestSecrets | null> {
    const secrets = this.load(agencyId);
    const entry = { expiresAt: Date.now() + INGEST_SECRETS_TTL_MS, secrets };
    this.entries.delete(agencyId);
    const oldest = this.entries.keys().next();
    if (this.entries.size >= MAX_CACHED_AGENCIES && !oldest.done) this.entries.delete(oldest.value);
    this.entries.set(agencyId, entry);
    // An unknown agency (it may be created later) or a failed read is not kept.
    const forget = () => {
      if (this.entries.get(agencyId) === entry) this.entries.delete(agencyId);
    };
    secrets.then((found) => found ?? forget(), forget);
    return secrets;
  }

  private async load(agencyId: string): Promise<IngestSecrets | null> {
    const [row] = await runSql<AgencySecretsRow>(this.dataSource, SELECT_AGENCY_SECRETS, [agencyId]);
    if (!row) return null;
    const ingestSecret = this.secretBox.decrypt(
      row.ingest_secret_encrypted,
      agencySecretContext(row.id, 'ingest_secret'),
    );
    const signingSecret = row.ultravox_signing_secret_encrypted
      ? this.secretBox.decrypt(
          row.ultravox_signing_secret_encrypted,
          agencySecretContext(row.id, 'ultravox_signing_secret'),
        )
      : null;
    return { agencyId: row.id, ingestSecretDigest: secretDigest(ingestSecret), signingSecret };
  }
}
