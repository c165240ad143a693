import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { JobsOptions, Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { batchPerTick } from '../../common/batch-per-tick';
import { addInBulk, BulkJobs } from '../../common/queues';
import { DeliverJob, JOBS, QUEUES } from '../../common/queues';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { runSql, statement } from '../../database/sql';
import { WebhookEventType } from '../webhook-event-types';

/** Emits one event inside the caller's transaction; the returned deliveries are enqueued after commit. */
export type Emit = (
  agencyId: string,
  type: WebhookEventType,
  fields: Record<string, unknown>,
  onlyEndpointId?: string,
) => Promise<EmittedEvent>;

export interface EmittedEvent {
  eventId: string;
  deliveryIds: string[];
}

const recordEvent = (name: string, target: string) =>
  statement(
    name,
    `WITH event AS (INSERT INTO webhook_events (id, agency_id, type, payload) VALUES ($1, $2, $3, $4))
     INSERT INTO webhook_deliveries (agency_id, endpoint_id, event_id, event_type, next_attempt_at)
     SELECT $2, e.id, $1, $3, now() FROM webhook_endpoints e WHERE e.agency_id = $2 AND ${target}
     RETURNING id`,
  );
/** One event to every active endpoint of the agency subscribed to its type. */
const RECORD_FOR_SUBSCRIBERS = recordEvent('webhook_outbox_record', 'e.active AND $3 = ANY(e.events)');
/** One event to one endpoint (webhook.test). */
const RECORD_FOR_ENDPOINT = recordEvent('webhook_outbox_record_for_endpoint', 'e.id = $5');
/**
 * Several events at once (a group commit), one row of each array per event, with the rules above. The
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
   RETURNING id, event_id`,
);

/** An event as stored: its id and exactly the bytes that every attempt sends and signs. */
interface NewEvent {
  id: string;
  agencyId: string;
  type: WebhookEventType;
  payload: string;
  onlyEndpointId: string | null;
}

export function newEventId(): string {
  return `evt_${randomBytes(18).toString('base64url')}`;
}

function newEvent(
  agencyId: string,
  type: WebhookEventType,
  fields: Record<string, unknown>,
  onlyEndpointId?: string,
): NewEvent {
  const id = newEventId();
  const payload = JSON.stringify({
    event: type,
    event_id: id,
    timestamp: new Date().toISOString(),
    ...fields,
  });
  return { id, agencyId, type, payload, onlyEndpointId: onlyEndpointId ?? null };
}

/**
 * The one way to emit an event (transactional outbox): the event's bytes and one delivery row per
 * subscribed endpoint are written with the caller's own changes (`transaction`), or on their own when
 * there are none (`emit`), and queued only after commit. An enqueue that fails after commit is
 * repaired by the sweeper, which trusts Postgres over Redis.
 */
@Injectable()
export class WebhookOutbox {
  private readonly logger = new Logger(WebhookOutbox.name);
  /** The jobs of transactions that commit in the same turn of the event loop go to Redis in one addBulk. */
  private readonly addJobs: (jobs: BulkJobs<DeliverJob>) => Promise<void>;

  /**
   * Events emitted on their own in one turn of the event loop are written by one statement, at most
   * 100 of them (a call's payload carries its whole transcript).
   */
  private readonly recordAlone = batchPerTick(
    (events: readonly NewEvent[]) => this.recordEvents(this.dataSource, events),
    100,
  );

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QUEUES.webhookDelivery) queue: Queue<DeliverJob>,
  ) {
    this.addJobs = addInBulk(queue);
  }

  /** Runs `work` in a transaction with an `emit` bound to it; enqueues what was emitted once it commits. */
  async transaction<T>(work: (em: EntityManager, emit: Emit) => Promise<T>): Promise<T> {
    const emitted: string[] = [];
    const result = await this.dataSource.transaction(async (em) => {
      const emit: Emit = async (agencyId, type, fields, onlyEndpointId) => {
        const event = await this.record(em, agencyId, type, fields, onlyEndpointId);
        emitted.push(...event.deliveryIds);
        return event;
      };
      return work(em, emit);
    });
    await this.enqueue(emitted);
    return result;
  }

  /**
   * Emits one event that is not part of a larger change: the event and its deliveries are written by
   * one statement — shared with the other events emitted in the same turn of the event loop (group
   * commit) — and queued once it has committed. What `transaction((_em, emit) => emit(…))` does, in one
   * round trip to Postgres instead of three.
   */
  async emit(
    agencyId: string,
    type: WebhookEventType,
    fields: Record<string, unknown>,
    onlyEndpointId?: string,
  ): Promise<EmittedEvent> {
    const emitted = await this.recordAlone(newEvent(agencyId, type, fields, onlyEndpointId));
    await this.enqueue(emitted.deliveryIds);
    return emitted;
  }

  /**
   * Writes the event and its deliveries with `em` (inside the caller's transaction). Without
   * `onlyEndpointId` every active endpoint of the agency subscribed to `type` gets a delivery.
   */
  async record(
    em: EntityManager,
    agencyId: string,
    type: WebhookEventType,
    fields: Record<string, unknown>,
    onlyEndpointId?: string,
  ): Promise<EmittedEvent> {
    const [emitted] = await this.recordEvents(em, [newEvent(agencyId, type, fields, onlyEndpointId)]);
    return emitted;
  }

  /** Writes `events` with `db` (a transaction's EntityManager, or the pool: atomic on its own). */
  private async recordEvents(
    db: DataSource | EntityManager,
    events: readonly NewEvent[],
  ): Promise<EmittedEvent[]> {
    if (events.length === 1) {
      const [e] = events;
      const rows = await runSql<{ id: string }>(
        db,
        e.onlyEndpointId ? RECORD_FOR_ENDPOINT : RECORD_FOR_SUBSCRIBERS,
        e.onlyEndpointId
          ? [e.id, e.agencyId, e.type, e.payload, e.onlyEndpointId]
          : [e.id, e.agencyId, e.type, e.payload],
      );
      return [{ eventId: e.id, deliveryIds: rows.map((r) => r.id) }];
    }
    const rows = await runSql<{ id: string; event_id: string }>(db, RECORD_MANY, [
      events.map((e) => e.id),
      events.map((e) => e.agencyId),
      events.map((e) => e.type),
      events.map((e) => e.payload),
      events.map((e) => e.onlyEndpointId),
    ]);
    const deliveries = new Map<string, string[]>(events.map((e) => [e.id, []]));
    for (const row of rows) deliveries.get(row.event_id)?.push(row.id);
    return events.map((e) => ({ eventId: e.id, deliveryIds: deliveries.get(e.id) ?? [] }));
  }

  /** Queues deliveries (jobId = delivery id, so a repeat is harmless). Never throws: the sweeper is the net. */
  async enqueue(deliveryIds: string[], manual = false): Promise<void> {
    if (deliveryIds.length === 0) return;
    try {
      await this.addJobs(
        deliveryIds.map((deliveryId) => ({
          name: JOBS.deliver,
          data: manual ? { deliveryId, manual } : { deliveryId },
          opts: this.jobOptions(manual ? `${deliveryId}:manual:${Date.now()}` : deliveryId, manual),
        })),
      );
    } catch (err) {
      this.logger.warn({
        msg: 'enqueue failed; the sweeper will retry',
        err: (err as Error).message,
        count: deliveryIds.length,
      });
    }
  }

  jobOptions(jobId: string, manual = false): JobsOptions {
    return {
      jobId,
      attempts: manual ? 1 : this.config.webhooks.retryDelaysMs.length + 1,
      backoff: { type: 'custom' },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 24 * 3600, count: 5000 },
    };
  }
}
