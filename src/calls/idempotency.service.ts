import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApiError } from '../common/errors/api-error';

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

/**
 * Idempotency-Key (CONTRACT §5.3), kept 24 h in Postgres: the first request with a key claims it, runs,
 * and stores its answer; a replay gets that answer; the key with another body is refused; a concurrent
 * duplicate waits for the first to finish and never runs the action twice.
 */
@Injectable()
export class IdempotencyService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async run<T>(
    agencyId: string,
    key: string,
    request: unknown,
    action: () => Promise<T>,
  ): Promise<StoredResponse<T>> {
    const hash = createHash('sha256').update(canonical(request)).digest('hex');
    const claimed: unknown[] = await this.dataSource.query(
      `INSERT INTO idempotency_keys (agency_id, key, request_hash) VALUES ($1, $2, $3)
       ON CONFLICT (agency_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status_code = NULL,
         response = NULL, created_at = now()
         WHERE idempotency_keys.created_at < now() - interval '${KEEP_HOURS} hours'
       RETURNING key`,
      [agencyId, key, hash],
    );
    if (claimed.length === 0) return this.replay<T>(agencyId, key, hash);
    try {
      const body = await action();
      await this.dataSource.query(
        `UPDATE idempotency_keys SET status_code = 200, response = $3 WHERE agency_id = $1 AND key = $2`,
        [agencyId, key, JSON.stringify(body)],
      );
      return { statusCode: 200, body, replayed: false };
    } catch (err) {
      // A request that did not succeed leaves nothing behind: the client may fix it and retry the key.
      await this.dataSource.query(`DELETE FROM idempotency_keys WHERE agency_id = $1 AND key = $2`, [
        agencyId,
        key,
      ]);
      throw err;
    }
  }

  private async replay<T>(agencyId: string, key: string, hash: string): Promise<StoredResponse<T>> {
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (;;) {
      const [row] = (await this.dataSource.query(
        `SELECT request_hash, status_code, response FROM idempotency_keys WHERE agency_id = $1 AND key = $2`,
        [agencyId, key],
      )) as { request_hash: string; status_code: number | null; response: string | null }[];
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
