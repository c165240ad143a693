import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApiError } from '../common/errors/api-error';
import { batchPerTick } from '../common/batch-per-tick';
import { runSql, statement } from '../database/sql';

const KEEP_HOURS = 24;
/** How long a duplicate waits for the first request with the same key to finish before answering 409. */
const WAIT_FOR_FIRST_MS = 5_000;

export interface StoredResponse<T> {
  statusCode: number;
  body: T;
  replayed: boolean;
}

/** Canonical JSON (sorted keys) so that the same body in another key order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

interface Claim {
  agencyId: string;
  key: string;
  hash: string;
}

interface Answer {
  agencyId: string;
  key: string;
  response: string;
}

/**
 * Claims the keys of a batch: a key is claimed when it is new or older than KEEP_HOURS. The same key
 * twice in one batch fails the statement; batchPerTick then claims item by item, so only one wins.
 */
const CLAIM_KEYS = statement(
  'idempotency_claim_keys',
  `INSERT INTO idempotency_keys (agency_id, key, request_hash)
   SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])
   ON CONFLICT (agency_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status_code = NULL,
     response = NULL, created_at = now()
     WHERE idempotency_keys.created_at < now() - interval '${KEEP_HOURS} hours'
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
 * Idempotency-Key (CONTRACT §5.3), kept 24 h in Postgres: the first request with a key claims it, runs,
 * and stores its answer; a replay gets that answer; the key with another body is refused; a concurrent
 * duplicate waits for the first to finish and never runs the action twice. Claims and answers of
 * concurrent requests share one statement per event-loop turn.
 */
@Injectable()
export class IdempotencyService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private readonly claim = batchPerTick(async (claims: readonly Claim[]) => {
    const rows = await runSql<{ agency_id: string; key: string }>(this.dataSource, CLAIM_KEYS, [
      claims.map((c) => c.agencyId),
      claims.map((c) => c.key),
      claims.map((c) => c.hash),
    ]);
    const claimed = new Set(rows.map((row) => `${row.agency_id} ${row.key}`));
    return claims.map((c) => claimed.has(`${c.agencyId} ${c.key}`));
  });

  private readonly storeAnswer = batchPerTick(async (answers: readonly Answer[]) => {
    await runSql(this.dataSource, STORE_ANSWERS, [
      answers.map((a) => a.agencyId),
      answers.map((a) => a.key),
      answers.map((a) => a.response),
    ]);
    return answers.map(() => undefined);
  });

  async run<T>(
    agencyId: string,
    key: string,
    request: unknown,
    action: () => Promise<T>,
  ): Promise<StoredResponse<T>> {
    const hash = createHash('sha256').update(canonical(request)).digest('hex');
    if (!(await this.claim({ agencyId, key, hash }))) return this.replay<T>(agencyId, key, hash);
    try {
      const body = await action();
      await this.storeAnswer({ agencyId, key, response: JSON.stringify(body) });
      return { statusCode: 200, body, replayed: false };
    } catch (err) {
      // A request that did not succeed leaves nothing behind: the client may fix it and retry the key.
      await runSql(this.dataSource, FORGET_KEY, [agencyId, key]);
      throw err;
    }
  }

  private async replay<T>(agencyId: string, key: string, hash: string): Promise<StoredResponse<T>> {
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (;;) {
      const [row] = await runSql<{
        request_hash: string;
        status_code: number | null;
        response: string | null;
      }>(this.dataSource, READ_KEY, [agencyId, key]);
      if (!row)
        throw ApiError.conflict(
          'idempotency_key_in_progress',
          'The first request with this Idempotency-Key failed; retry it',
        );
      if (row.request_hash !== hash) {
        throw ApiError.unprocessable(
          'idempotency_key_reused',
          'This Idempotency-Key was used with a different request body',
          {
            hint: 'Use a new Idempotency-Key for a different call',
          },
        );
      }
      if (row.status_code !== null && row.response !== null) {
        return { statusCode: row.status_code, body: JSON.parse(row.response) as T, replayed: true };
      }
      if (Date.now() > deadline) {
        throw new ApiError(
          HttpStatus.CONFLICT,
          'idempotency_key_in_progress',
          'A request with this Idempotency-Key is still running',
          {
            hint: 'Retry in a few seconds to get its result',
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
