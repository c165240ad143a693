import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { batchPerTick } from '../../common/batch-per-tick';
import { runSql, statement } from '../../database/sql';
import { DeliveryResult } from './delivery-http.client';
import { DeliveryStatus } from './webhook-delivery.entity';

export interface ClaimRequest {
  deliveryId: string;
  /** A by-hand retry: claims a failed delivery, or one whose endpoint is disabled. */
  manual: boolean;
}

/** A delivery whose attempt number is reserved, with everything needed to sign and send it. */
export interface ClaimedDelivery {
  id: string;
  agency_id: string;
  /** Its status when claimed (the claim leaves it as it is). */
  status: DeliveryStatus;
  attempt: number;
  event_id: string;
  payload: string;
  endpoint_id: string;
  kind: string;
  url: string;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
  /** The agency's current API key, for integration endpoints only. */
  api_key_encrypted: string | null;
}

export interface AttemptRecord {
  delivery: ClaimedDelivery;
  at: Date;
  result: DeliveryResult;
  /** The delivery's new status; null leaves it as it is. */
  status: DeliveryStatus | null;
  /** With status `pending`: when the next attempt is due. */
  retryInMs: number | null;
}

// The claim reserves the attempt number (a manual retry racing a scheduled attempt records under a
// different number) and loads the target in the same statement. Only pending deliveries of active
// endpoints are claimed, unless by hand; never a succeeded one. The by-hand flag travels with each id:
// written as \`d.id = ANY(<manual ids>) OR d.status = 'pending'\`, an empty list of manual ids let the
// planner turn the condition into \`status = 'pending'\` and scan the whole partial due index
// (webhook_deliveries_due_idx, every pending delivery and, until vacuumed, every finished one) per claim.
// `d.id = ANY($1)` besides the join keeps the primary-key path in a generic plan made while the table
// was small (a hash join over a sequential scan otherwise).
const CLAIM = statement(
  'webhook_delivery_claim',
  `WITH claimed AS (
     UPDATE webhook_deliveries d SET attempt_count = d.attempt_count + 1, updated_at = now()
       FROM unnest($1::uuid[], $2::bool[]) AS r(id, manual), webhook_endpoints e, webhook_events ev
      WHERE d.id = ANY($1::uuid[]) AND d.id = r.id AND e.id = d.endpoint_id AND ev.id = d.event_id
        AND d.status <> 'succeeded' AND (r.manual OR (d.status = 'pending' AND e.active))
     RETURNING d.id, d.agency_id, d.status, d.attempt_count AS attempt, d.event_id, ev.payload,
               e.id AS endpoint_id, e.kind, e.url, e.secret_encrypted, e.previous_secret_encrypted,
               e.previous_secret_expires_at)
   SELECT c.*, CASE WHEN c.kind = 'integration' THEN
            (SELECT k.key_encrypted FROM api_keys k WHERE k.agency_id = c.agency_id AND k.revoked_at IS NULL)
          END AS api_key_encrypted
     FROM claimed c`,
);

// One atomic statement per batch: the attempt rows, the endpoints a 410 disables, the deliveries' states.
const RECORD = statement(
  'webhook_delivery_record',
  `WITH r AS (
     SELECT * FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::int[], $5::int[], $6::text[],
                          $7::text[], $8::text[], $9::int[], $10::uuid[])
       AS r(delivery_id, attempt, at, status_code, duration_ms, error, response_excerpt, status, retry_ms,
            gone_endpoint_id)
   ), attempts AS (
     INSERT INTO webhook_delivery_attempts (delivery_id, attempt, at, status_code, duration_ms, error, response_excerpt)
     SELECT delivery_id, attempt, at, status_code, duration_ms, error, response_excerpt FROM r
   ), gone AS (
     UPDATE webhook_endpoints e SET active = false, disabled_reason = 'receiver answered 410 Gone', updated_at = now()
       FROM r WHERE e.id = r.gone_endpoint_id
   )
   UPDATE webhook_deliveries d SET status = r.status, next_attempt_at = now() + r.retry_ms * interval '1 millisecond'
     FROM r WHERE d.id = ANY($1::uuid[]) AND d.id = r.delivery_id AND r.status IS NOT NULL`,
);

const SETTLE_IF_DISABLED = statement(
  'webhook_delivery_settle_if_disabled',
  `UPDATE webhook_deliveries d SET status = 'failed', next_attempt_at = NULL
     FROM webhook_endpoints e
    WHERE d.id = $1 AND e.id = d.endpoint_id AND d.status = 'pending' AND NOT e.active`,
);

/**
 * The delivery worker's Postgres statements. Claims and records of the jobs running at once are
 * group-committed: one statement per turn of the event loop for all of them.
 */
@Injectable()
export class DeliveryStore {
  readonly claim: (request: ClaimRequest) => Promise<ClaimedDelivery | null>;
  readonly record: (record: AttemptRecord) => Promise<void>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.claim = batchPerTick((requests) =>
      inRoundsOfDistinct(
        requests,
        (r) => r.deliveryId,
        (round) => this.claimMany(round),
      ),
    );
    this.record = batchPerTick((records) =>
      inRoundsOfDistinct(
        records,
        (r) => r.delivery.id,
        (round) => this.recordMany(round),
      ),
    );
  }

  /** A pending delivery whose endpoint is disabled is settled as failed. */
  async settleIfDisabled(deliveryId: string): Promise<void> {
    await runSql(this.dataSource, SETTLE_IF_DISABLED, [deliveryId]);
  }

  private async claimMany(requests: readonly ClaimRequest[]): Promise<(ClaimedDelivery | null)[]> {
    const rows = await runSql<ClaimedDelivery>(this.dataSource, CLAIM, [
      requests.map((r) => r.deliveryId),
      requests.map((r) => r.manual),
    ]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return requests.map((r) => byId.get(r.deliveryId) ?? null);
  }

  private async recordMany(records: readonly AttemptRecord[]): Promise<void[]> {
    const column = <T>(pick: (r: AttemptRecord) => T) => records.map(pick);
    await runSql(this.dataSource, RECORD, [
      column((r) => r.delivery.id),
      column((r) => r.delivery.attempt),
      column((r) => r.at),
      column((r) => r.result.statusCode),
      column((r) => r.result.durationMs),
      column((r) => r.result.error),
      column((r) => r.result.responseExcerpt),
      column((r) => r.status),
      column((r) => r.retryInMs),
      column((r) => (r.result.statusCode === 410 ? r.delivery.endpoint_id : null)),
    ]);
    return records.map(() => undefined);
  }
}

/**
 * Writes `items` in rounds in which no delivery appears twice (a manual retry and a scheduled attempt
 * of one delivery in the same turn): one statement cannot update a row twice.
 */
export async function inRoundsOfDistinct<Item, Result>(
  items: readonly Item[],
  key: (item: Item) => string,
  writeMany: (round: Item[]) => Promise<Result[]>,
): Promise<Result[]> {
  const results: Result[] = new Array<Result>(items.length);
  let left = items.map((item, index) => ({ item, index }));
  while (left.length > 0) {
    const seen = new Set<string>();
    const round: typeof left = [];
    const later: typeof left = [];
    for (const entry of left) {
      const k = key(entry.item);
      (seen.has(k) ? later : round).push(entry);
      seen.add(k);
    }
    const written = await writeMany(round.map(({ item }) => item));
    round.forEach(({ index }, i) => (results[index] = written[i]));
    left = later;
  }
  return results;
}
