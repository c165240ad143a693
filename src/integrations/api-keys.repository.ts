import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import type { ActiveApiKey, ApiKeyLookup } from '../auth/credentials';
import { batchPerTick } from '../database/batch-per-tick';
import { byOrdinality, runSql, statement, Tx } from '../database/sql';
import { ApiKey } from './api-key.entity';

/**
 * The active keys with these hashes and their agencies' switch: read on every API-key request, so a
 * named statement (planned once per connection) taking a whole event-loop turn's hashes at once.
 */
const ACTIVE_API_KEYS = statement(
  'auth_active_api_keys',
  `SELECT h.ord, k.id, k.agency_id, a.api_enabled
     FROM unnest($1::text[]) WITH ORDINALITY AS h(hash, ord)
     JOIN api_keys k ON k.key_hash = h.hash AND k.revoked_at IS NULL
     JOIN agencies a ON a.id = k.agency_id`,
);

interface ActiveApiKeyRow {
  ord: string;
  id: string;
  agency_id: string;
  api_enabled: boolean;
}

/** Every query on api_keys. */
@Injectable()
export class ApiKeysRepository implements ApiKeyLookup {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Requests authenticated in the same event-loop turn share one statement (one round trip). */
  private readonly activeByHash = batchPerTick(async (hashes: readonly string[]) => {
    const rows = await runSql<ActiveApiKeyRow>(this.dataSource, ACTIVE_API_KEYS, [hashes]);
    return byOrdinality(rows, hashes.length);
  });

  async findActiveKey(keyHash: string): Promise<ActiveApiKey | null> {
    const row = await this.activeByHash(keyHash);
    return row && { id: row.id, agencyId: row.agency_id, apiEnabled: row.api_enabled };
  }

  /** The agency's unrevoked key (at most one). */
  async findActive(agencyId: string): Promise<ApiKey | null> {
    return this.dataSource.getRepository(ApiKey).findOneBy({ agencyId, revokedAt: IsNull() });
  }

  /** Revokes the agency's active key and stores `key` as the new one, in the caller's transaction. */
  async replaceActive(
    tx: Tx,
    agencyId: string,
    key: Pick<ApiKey, 'prefix' | 'last4' | 'keyHash' | 'keyEncrypted'>,
  ): Promise<void> {
    await tx.update(ApiKey, { agencyId, revokedAt: IsNull() }, { revokedAt: new Date() });
    await tx.insert(ApiKey, { agencyId, ...key });
  }
}
