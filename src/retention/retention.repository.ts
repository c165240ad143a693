import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { DeliveryStatus } from '../webhooks/delivery/webhook-delivery.entity';
import { literals, runSql, Statement, statement } from '../database/sql';

/*
 * The retention job's batched deletes. Each statement picks at most $2 rows older than $1 milliseconds
 * (by the database's clock, which stamped them), skipping rows another transaction holds, and works on
 * those through their ctid (a TID scan). Planned per execution: the tables grow from empty. The indexes
 * they need are in migration 1763940000000-retention.
 */

const OLDER_THAN = `now() - $1 * interval '1 millisecond'`;

/** Idempotency keys past their 24 h: a retry that late is a new request anyway. */
const IDEMPOTENCY_KEYS = statement(
  'retention_idempotency_keys',
  `DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
     SELECT ctid FROM idempotency_keys WHERE created_at < ${OLDER_THAN}
      ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))
   RETURNING 1`,
  { reusePlan: false },
);

/**
 * The raw bodies of Ultravox webhooks already processed; the timeline rows stay (they also keep a
 * redelivered webhook from being processed twice). An event not processed yet keeps its body.
 */
const ULTRAVOX_PAYLOADS = statement(
  'retention_ultravox_payloads',
  `UPDATE call_events SET payload = NULL WHERE ctid = ANY(ARRAY(
     SELECT ctid FROM call_events
      WHERE source = 'ultravox' AND payload IS NOT NULL AND processed_at IS NOT NULL
        AND created_at < ${OLDER_THAN}
      ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))
   RETURNING 1`,
  { reusePlan: false },
);

/** Attempts of deliveries that are settled; a pending delivery keeps its history. */
const DELIVERY_ATTEMPTS = statement(
  'retention_delivery_attempts',
  `DELETE FROM webhook_delivery_attempts WHERE ctid = ANY(ARRAY(
     SELECT a.ctid FROM webhook_delivery_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
      WHERE a.at < ${OLDER_THAN} AND d.status <> ${literals<DeliveryStatus>('pending')}
      ORDER BY a.at LIMIT $2 FOR UPDATE OF a SKIP LOCKED))
   RETURNING 1`,
  { reusePlan: false },
);

/** Outbox events none of whose deliveries is still pending; their deliveries go with them (cascade). */
const OUTBOX_EVENTS = statement(
  'retention_outbox_events',
  `DELETE FROM webhook_events WHERE ctid = ANY(ARRAY(
     SELECT e.ctid FROM webhook_events e
      WHERE e.created_at < ${OLDER_THAN}
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                         WHERE d.event_id = e.id AND d.status = ${literals<DeliveryStatus>('pending')})
      ORDER BY e.created_at LIMIT $2 FOR UPDATE OF e SKIP LOCKED))
   RETURNING 1`,
  { reusePlan: false },
);

export type RetainedKind = 'idempotencyKeys' | 'ultravoxPayloads' | 'deliveryAttempts' | 'outboxEvents';

const STATEMENTS: Record<RetainedKind, Statement> = {
  idempotencyKeys: IDEMPOTENCY_KEYS,
  ultravoxPayloads: ULTRAVOX_PAYLOADS,
  deliveryAttempts: DELIVERY_ATTEMPTS,
  outboxEvents: OUTBOX_EVENTS,
};

@Injectable()
export class RetentionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Deletes (or, for payloads, clears) one batch of at most `limit` rows older than `ageMs`; returns how many. */
  async purgeBatch(kind: RetainedKind, ageMs: number, limit: number): Promise<number> {
    return (await runSql(this.dataSource, STATEMENTS[kind], [ageMs, limit])).length;
  }
}
