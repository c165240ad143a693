import { HttpStatus, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ApiError } from '../common/errors/api-error';
import { IdempotencyRepository } from './idempotency.repository';

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
  constructor(private readonly keys: IdempotencyRepository) {}

  async run<T>(
    agencyId: string,
    key: string,
    request: unknown,
    action: () => Promise<T>,
  ): Promise<StoredResponse<T>> {
    const hash = createHash('sha256').update(canonical(request)).digest('hex');
    if (!(await this.keys.claim({ agencyId, key, hash }))) return this.replay<T>(agencyId, key, hash);
    try {
      const body = await action();
      await this.keys.storeAnswer({ agencyId, key, response: JSON.stringify(body) });
      return { statusCode: 200, body, replayed: false };
    } catch (err) {
      // A request that did not succeed leaves nothing behind: the client may fix it and retry the key.
      await this.keys.forget(agencyId, key);
      throw err;
    }
  }

  private async replay<T>(agencyId: string, key: string, hash: string): Promise<StoredResponse<T>> {
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (;;) {
      const row = await this.keys.read(agencyId, key);
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
