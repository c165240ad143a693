import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository } from 'typeorm';
import { batchPerTick } from '../../database/batch-per-tick';
import { Page } from '../../common/pagination';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { paginate } from '../../database/pagination';
import { literals, runSql, statement } from '../../database/sql';
import type { EndpointKind } from '../endpoints/webhook-endpoint.entity';
import type { DeliveryResult } from './delivery-http.client';
import type { DeliveryRef } from './endpoint-gate.repository';
import { DeliveryAttempt, DeliveryStatus, WebhookDelivery } from './webhook-delivery.entity';

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
  /** Its number in the delivery's log. */
  attempt: number;
  /** Its number in the current automatic retry schedule (a recovery starts a new one). */
  scheduled_attempt: number;
  event_id: string;
  payload: string;
  endpoint_id: string;
  kind: EndpointKind;
  url: string;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
  /** The agency's current API key, for integration endpoints only. */
  api_key_encrypted: string | null;
}

/** One attempt of a claimed delivery, as sent and answered. */
export interface Attempt {
  delivery: ClaimedDelivery;
  at: Date;
  result: DeliveryResult;
}

/** The delivery's status after an attempt (null: unchanged); `pending` comes with the retry's delay. */
type Outcome =
  { status: null } | { status: 'succeeded' | 'failed' } | { status: 'pending'; retryInMs: number };
type AttemptRecord = Attempt & Outcome;

/** Which deliveries a log shows: one endpoint's, or the integration page's endpoint's. */
export type DeliveryScope = { endpointId: string } | { integration: true };

/** A page of the log, optionally only deliveries in one status or of one event type. */
export interface DeliveryPageQuery extends PageQueryDto {
  status?: DeliveryStatus;
  event?: string;
}

// The claim reserves the attempt number (a manual retry racing a scheduled attempt records under a
// different number) and loads the target in the same statement. Only pending deliveries of active
// endpoints are claimed, unless by hand; never a succeeded one. The by-hand flag travels with each id:
// written as \`d.id = ANY(<manual ids>) OR d.status = 'pending'\`, an empty list of manual ids let the
// planner turn the condition into \`status = 'pending'\` and scan the whole partial due index
// (webhook_deliveries_due_idx, every pending delivery and, until vacuumed, every finished one) per claim.
// `d.id = ANY($1)` besides the join hands the planner the primary-key path directly.
//
// Claim and record are planned for each batch (`reusePlan: false`): named, they kept a generic plan
// made while webhook_deliveries was nearly empty (a sequential scan) long after the table had grown
// (docs/benchmarks.md#per-execution-plans). This replaces plan_cache_mode=force_custom_plan on the worker pool.
const CLAIM = statement(
  'webhook_delivery_claim',
  `WITH claimed AS (
     UPDATE webhook_deliveries d SET attempt_count = d.attempt_count + 1, updated_at = now()
       FROM unnest($1::uuid[], $2::bool[]) AS r(id, manual), webhook_endpoints e, webhook_events ev
      WHERE d.id = ANY($1::uuid[]) AND d.id = r.id AND e.id = d.endpoint_id AND ev.id = d.event_id
        AND d.status <> ${literals<DeliveryStatus>('succeeded')}
        AND (r.manual OR (d.status = ${literals<DeliveryStatus>('pending')} AND e.active))
     RETURNING d.id, d.agency_id, d.status, d.attempt_count AS attempt,
               d.attempt_count - d.attempt_base AS scheduled_attempt, d.event_id, ev.payload,
               e.id AS endpoint_id, e.kind, e.url, e.secret_encrypted, e.previous_secret_encrypted,
               e.previous_secret_expires_at)
   SELECT c.*, CASE WHEN c.kind = ${literals<EndpointKind>('integration')} THEN
            (SELECT k.key_encrypted FROM api_keys k WHERE k.agency_id = c.agency_id AND k.revoked_at IS NULL)
          END AS api_key_encrypted
     FROM claimed c`,
  { reusePlan: false },
);

// One atomic statement per batch: the attempt rows, the endpoints a 410 disables, the deliveries' new
// states. Succeeded is final: a by-hand retry that fails after a scheduled attempt succeeded is logged
// but does not change the delivery. failed_at is set exactly while a delivery is failed (a CHECK).
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
   UPDATE webhook_deliveries d SET status = r.status, next_attempt_at = now() + r.retry_ms * interval '1 millisecond',
          failed_at = CASE WHEN r.status = ${literals<DeliveryStatus>('failed')} THEN now() END
     FROM r WHERE d.id = ANY($1::uuid[]) AND d.id = r.delivery_id AND r.status IS NOT NULL
      AND d.status <> ${literals<DeliveryStatus>('succeeded')}`,
  { reusePlan: false },
);

const SETTLE_IF_ENDPOINT_DISABLED = statement(
  'webhook_delivery_settle_if_endpoint_disabled',
  `UPDATE webhook_deliveries d SET status = ${literals<DeliveryStatus>('failed')}, next_attempt_at = NULL,
          failed_at = now()
     FROM webhook_endpoints e
    WHERE d.id = $1 AND e.id = d.endpoint_id AND d.status = ${literals<DeliveryStatus>('pending')} AND NOT e.active`,
);

// Recovery: at most $5 of the endpoint's deliveries that failed within [$3, $4], oldest failure first,
// become pending and due now, with a new automatic retry schedule (attempt_base: the attempts so far;
// their numbers go on counting). Only failed ones are taken, so each is taken once even by recoveries
// running at once; a row another statement is writing at that moment is skipped (a by-hand retry is
// re-sending it). Bounded, so a large range is many short statements, each over the partial index
// webhook_deliveries_failed_idx. Planned per execution: not hot, and the table grows from empty.
const REOPEN_FAILED = statement(
  'webhook_deliveries_reopen_failed',
  `UPDATE webhook_deliveries d
      SET status = ${literals<DeliveryStatus>('pending')}, failed_at = NULL, next_attempt_at = now(),
          attempt_base = d.attempt_count, updated_at = now()
    WHERE d.id = ANY(ARRAY(
            SELECT id FROM webhook_deliveries
             WHERE endpoint_id = $1 AND agency_id = $2 AND status = ${literals<DeliveryStatus>('failed')}
               AND failed_at >= $3 AND failed_at <= $4
             ORDER BY failed_at LIMIT $5 FOR UPDATE SKIP LOCKED))
      AND d.status = ${literals<DeliveryStatus>('failed')}
   RETURNING d.id, d.endpoint_id`,
  { reusePlan: false },
);

// The sweeper's look-up, every few seconds: not hot, planned for each run. It pages on (due time, id)
// from where its last pass ended: parked deliveries are due too, and a backlog longer than a page must
// not hide the deliveries behind it.
const DUE = statement(
  'webhook_deliveries_due',
  `SELECT id, endpoint_id, next_attempt_at FROM webhook_deliveries
    WHERE status = ${literals<DeliveryStatus>('pending')} AND next_attempt_at <= now() - $1 * interval '1 millisecond'
      AND (next_attempt_at, id) > ($3::timestamptz, $4::uuid)
    ORDER BY next_attempt_at, id LIMIT $2`,
  { reusePlan: false },
);

/** Where the sweeper's next page of due deliveries starts. */
export interface DuePosition {
  dueAt: Date;
  id: string;
}

export const FROM_THE_FIRST_DUE: DuePosition = {
  dueAt: new Date(0),
  id: '00000000-0000-0000-0000-000000000000',
};

/**
 * Every query on webhook deliveries and their attempts, and the only writer of a delivery's status.
 * Claims and records of the jobs running at once are batched per turn of the event loop: one statement
 * for all of them.
 */
@Injectable()
export class DeliveriesRepository {
  /** Reserves the next attempt of a delivery that may be attempted; null when it may not. */
  readonly claim: (request: ClaimRequest) => Promise<ClaimedDelivery | null>;
  private readonly record: (record: AttemptRecord) => Promise<void>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(WebhookDelivery) private readonly deliveries: Repository<WebhookDelivery>,
    @InjectRepository(DeliveryAttempt) private readonly attempts: Repository<DeliveryAttempt>,
  ) {
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

  /** Logs the attempt; the delivery succeeded. */
  succeed(attempt: Attempt): Promise<void> {
    return this.record({ ...attempt, status: 'succeeded' });
  }

  /** Logs the attempt; the delivery stays pending, its next attempt due in `retryInMs`. */
  retryLater(attempt: Attempt, retryInMs: number): Promise<void> {
    return this.record({ ...attempt, status: 'pending', retryInMs });
  }

  /** Logs the attempt; the delivery failed for good (until retried by hand). */
  fail(attempt: Attempt): Promise<void> {
    return this.record({ ...attempt, status: 'failed' });
  }

  /** Logs the attempt and leaves the delivery as it is (a by-hand retry of a pending delivery failed). */
  logAttempt(attempt: Attempt): Promise<void> {
    return this.record({ ...attempt, status: null });
  }

  /** A pending delivery whose endpoint is disabled fails. */
  async settleIfEndpointDisabled(deliveryId: string): Promise<void> {
    await runSql(this.dataSource, SETTLE_IF_ENDPOINT_DISABLED, [deliveryId]);
  }

  /**
   * Recovery: up to `limit` of the endpoint's deliveries that failed within `range` (inclusive) become
   * pending and due now, each with the whole automatic retry schedule again; returns them. Call again
   * until it returns none.
   */
  async reopenFailed(
    agencyId: string,
    endpointId: string,
    range: { since: Date; until: Date },
    limit: number,
  ): Promise<DeliveryRef[]> {
    const rows = await runSql<{ id: string; endpoint_id: string }>(this.dataSource, REOPEN_FAILED, [
      endpointId,
      agencyId,
      range.since,
      range.until,
      limit,
    ]);
    return rows.map((row) => ({ deliveryId: row.id, endpointId: row.endpoint_id }));
  }

  /**
   * Pending deliveries due for longer than `graceMs`, longest due first, after `from`; with where
   * the page ended (null: it was the last).
   */
  async dueFor(
    graceMs: number,
    limit: number,
    from: DuePosition,
  ): Promise<{ due: DeliveryRef[]; next: DuePosition | null }> {
    const rows = await runSql<{ id: string; endpoint_id: string; next_attempt_at: Date }>(
      this.dataSource,
      DUE,
      [graceMs, limit, from.dueAt, from.id],
    );
    const last = rows[rows.length - 1];
    return {
      due: rows.map((row) => ({ deliveryId: row.id, endpointId: row.endpoint_id })),
      next: rows.length === limit ? { dueAt: last.next_attempt_at, id: last.id } : null,
    };
  }

  /** One page of the agency's deliveries in `scope`, newest first. */
  page(agencyId: string, scope: DeliveryScope, query: DeliveryPageQuery): Promise<Page<WebhookDelivery>> {
    const qb = this.deliveries
      .createQueryBuilder('delivery')
      .where('delivery.agency_id = :agencyId', { agencyId });
    if ('endpointId' in scope) {
      qb.andWhere('delivery.endpoint_id = :endpointId', { endpointId: scope.endpointId });
    } else {
      qb.andWhere(
        `delivery.endpoint_id IN (SELECT id FROM webhook_endpoints
                                   WHERE agency_id = :agencyId AND kind = ${literals<EndpointKind>('integration')})`,
      );
    }
    if (query.status) qb.andWhere('delivery.status = :status', { status: query.status });
    if (query.event) qb.andWhere('delivery.event_type = :event', { event: query.event });
    return paginate(qb, query);
  }

  findInAgency(agencyId: string, id: string): Promise<WebhookDelivery | null> {
    return this.deliveries.findOneBy({ id, agencyId });
  }

  /** The attempts of these deliveries, in attempt order. */
  attemptsOf(deliveryIds: readonly string[]): Promise<DeliveryAttempt[]> {
    if (deliveryIds.length === 0) return Promise.resolve([]);
    return this.attempts.find({ where: { deliveryId: In([...deliveryIds]) }, order: { attempt: 'ASC' } });
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
      column((r) => (r.status === 'pending' ? r.retryInMs : null)),
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
