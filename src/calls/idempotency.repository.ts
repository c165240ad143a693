import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { batchPerTick } from '../database/batch-per-tick';
import { runSql, statement } from '../database/sql';

/** How long a key is kept: an older one is claimed afresh. */
export const IDEMPOTENCY_KEEP_HOURS = 24;

export interface KeyClaim {
  agencyId: string;
  key: string;
  hash: string;
}

interface StoredAnswer {
  agencyId: string;
  key: string;
  response: string;
}

export interface StoredKey {
  request_hash: string;
  status_code: number | null;
  response: string | null;
}

/**
 * Claims the keys of a batch: a key is claimed when it is new or older than the keep time. The same key
 * twice in one batch fails the statement; batchPerTick then claims item by item, so only one wins.
 */
const CLAIM_KEYS = statement(
  'idempotency_claim_keys',
  `INSERT INTO idempotency_keys (agency_id, key, request_hash)
   SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])
   ON CONFLICT (agency_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status_code = NULL,
     response = NULL, created_at = now()
     WHERE idempotency_keys.created_at < now() - interval '${IDEMPOTENCY_KEEP_HOURS} hours'
   RETURNING agency_id, key`,
);

const STORE_ANSWERS = statement(
  'idempotency_store_answers',
  `UPDATE idempotency_keys k SET status_code = 200, response = r.response
     FROM unnest($1::uuid[], $2::text[], $3::text[]) AS r(agency_id, key, response)
    WHERE k.agency_id = r.agency_id AND k.key = r.key`,
);

const FORGET_KEY = statement(
  'idempotency_forget_key',
  `DELETE FROM idempotency_keys WHERE agency_id = $1 AND key = $2`,
);

const READ_KEY = statement(
  'idempotency_read_key',
  `SELECT request_hash, status_code, response FROM idempotency_keys WHERE agency_id = $1 AND key = $2`,
);

/**
 * idempotency_keys. Claims and answers of concurrent requests share one prepared statement per
 * event-loop turn: trigger-call is a hot path, and each request with a key costs two writes.
 */
@Injectable()
export class IdempotencyRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** True when this request claimed the key (new, or expired); false when another holds it. */
  readonly claim = batchPerTick(async (claims: readonly KeyClaim[]) => {
    const rows = await runSql<{ agency_id: string; key: string }>(this.db, CLAIM_KEYS, [
      claims.map((c) => c.agencyId),
      claims.map((c) => c.key),
      claims.map((c) => c.hash),
    ]);
    const claimed = new Set(rows.map((row) => `${row.agency_id} ${row.key}`));
    return claims.map((c) => claimed.has(`${c.agencyId} ${c.key}`));
  });

  /** Stores the 200 answer of a claimed key. */
  readonly storeAnswer = batchPerTick(async (answers: readonly StoredAnswer[]) => {
    await runSql(this.db, STORE_ANSWERS, [
      answers.map((a) => a.agencyId),
      answers.map((a) => a.key),
      answers.map((a) => a.response),
    ]);
    return answers.map(() => undefined);
  });

  async forget(agencyId: string, key: string): Promise<void> {
    await runSql(this.db, FORGET_KEY, [agencyId, key]);
  }

  async read(agencyId: string, key: string): Promise<StoredKey | null> {
    const [row] = await runSql<StoredKey>(this.db, READ_KEY, [agencyId, key]);
    return row ?? null;
  }
}
