import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { batchPerTick } from '../../database/batch-per-tick';
import { Db, runSql, statement, Tx } from '../../database/sql';
import type { WebhookEventType } from '../webhook-event-types';
import type { DeliveryRef } from './endpoint-gate.repository';

/** An event as stored: its id and exactly the bytes that every attempt sends and signs. */
export interface NewEvent {
  id: string;
  agencyId: string;
  type: WebhookEventType;
  payload: string;
  /** Only this endpoint gets a delivery (webhook.test); null: every subscribed active endpoint. */
  onlyEndpointId: string | null;
}

export interface EmittedEvent {
  eventId: string;
  /** One per endpoint that is to receive it. */
  deliveries: DeliveryRef[];
}

const recordEvent = (name: string, target: string) =>
  statement(
    name,
    `WITH event AS (INSERT INTO webhook_events (id, agency_id, type, payload) VALUES ($1, $2, $3, $4))
     INSERT INTO webhook_deliveries (agency_id, endpoint_id, event_id, event_type, next_attempt_at)
     SELECT $2, e.id, $1, $3, now() FROM webhook_endpoints e WHERE e.agency_id = $2 AND ${target}
     RETURNING id, endpoint_id`,
  );
/** One event to every active endpoint of the agency subscribed to its type. */
const RECORD_FOR_SUBSCRIBERS = recordEvent('webhook_outbox_record', 'e.active AND $3 = ANY(e.events)');
/** One event to one endpoint (webhook.test). */
const RECORD_FOR_ENDPOINT = recordEvent('webhook_outbox_record_for_endpoint', 'e.id = $5');
/**
 * Several events at once (a batch), one row of each array per event, with the rules above. The
 * statements for one event stay: for a single row they cost Postgres and Node less than this one.
 */
const RECORD_MANY = statement(
  'webhook_outbox_record_many',
  `WITH input AS (
     SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::uuid[])
       AS i(id, agency_id, type, payload, only_endpoint)
   ), event AS (
     INSERT INTO webhook_events (id, agency_id, type, payload) SELECT id, agency_id, type, payload FROM input
   )
   INSERT INTO webhook_deliveries (agency_id, endpoint_id, event_id, event_type, next_attempt_at)
   SELECT i.agency_id, e.id, i.id, i.type, now()
   FROM input i JOIN webhook_endpoints e ON e.agency_id = i.agency_id
   WHERE CASE WHEN i.only_endpoint IS NULL THEN e.active AND i.type = ANY(e.events) ELSE e.id = i.only_endpoint END
   RETURNING id, endpoint_id, event_id`,
);

/**
 * The outbox's table: events, each written with one new (pending, due now) delivery per endpoint that
 * is to receive it. The deliveries' later states belong to DeliveriesRepository.
 */
@Injectable()
export class WebhookEventsRepository {
  /**
   * Records one event on its own (atomic by itself). The events recorded in one turn of the event
   * loop share one statement, at most 100 of them (a call's payload carries its whole transcript).
   */
  readonly recordOnItsOwn: (event: NewEvent) => Promise<EmittedEvent> = batchPerTick(
    (events: readonly NewEvent[]) => this.recordMany(this.dataSource, events),
    100,
  );

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Records one event inside the caller's transaction. */
  async record(tx: Tx, event: NewEvent): Promise<EmittedEvent> {
    const [emitted] = await this.recordMany(tx, [event]);
    return emitted;
  }

  private async recordMany(db: Db, events: readonly NewEvent[]): Promise<EmittedEvent[]> {
    if (events.length === 1) {
      const [e] = events;
      const rows = await runSql<{ id: string; endpoint_id: string }>(
        db,
        e.onlyEndpointId ? RECORD_FOR_ENDPOINT : RECORD_FOR_SUBSCRIBERS,
        e.onlyEndpointId
          ? [e.id, e.agencyId, e.type, e.payload, e.onlyEndpointId]
          : [e.id, e.agencyId, e.type, e.payload],
      );
      return [{ eventId: e.id, deliveries: rows.map(toRef) }];
    }
    const rows = await runSql<{ id: string; endpoint_id: string; event_id: string }>(db, RECORD_MANY, [
      events.map((e) => e.id),
      events.map((e) => e.agencyId),
      events.map((e) => e.type),
      events.map((e) => e.payload),
      events.map((e) => e.onlyEndpointId),
    ]);
    const deliveries = new Map<string, DeliveryRef[]>(events.map((e) => [e.id, []]));
    for (const row of rows) deliveries.get(row.event_id)?.push(toRef(row));
    return events.map((e) => ({ eventId: e.id, deliveries: deliveries.get(e.id) ?? [] }));
  }
}

function toRef(row: { id: string; endpoint_id: string }): DeliveryRef {
  return { deliveryId: row.id, endpointId: row.endpoint_id };
}
