import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { batchPerTick } from '../../database/batch-per-tick';
import { byOrdinality, runSql, statement } from '../../database/sql';

/** An Ultravox webhook as ingest stores it. */
export interface UltravoxEventInput {
  agencyId: string;
  /** Ultravox's call id. */
  callId: string;
  event: string;
  /** The raw body, as received. */
  payload: string;
}

/** A stored Ultravox webhook, as the worker processes it. */
export interface StoredUltravoxEvent {
  id: string;
  agencyId: string;
  payload: string | null;
  processedAt: Date | null;
  createdAt: Date;
}

/**
 * One statement for all the events of an event-loop turn. The ordinality maps each stored row back to
 * its item; items missing from the result were already stored (CONTRACT §5.2: idempotent). The bodies
 * go as one JSON array: pg escapes a text[] element by element in JavaScript, a measurable cost for
 * bodies this size (docs/benchmarks.md#batch-per-tick).
 */
const INSERT_EVENTS = statement(
  'ingest_insert_call_events',
  `WITH input AS (
     SELECT * FROM ROWS FROM (
       unnest($1::uuid[]), unnest($2::text[]), unnest($3::text[]), json_array_elements_text($4::json)
     ) WITH ORDINALITY AS t(agency_id, ultravox_call_id, event, payload, ord)
   ), stored AS (
     INSERT INTO call_events (agency_id, ultravox_call_id, source, event, payload)
     SELECT agency_id, ultravox_call_id, 'ultravox', event, payload FROM input ORDER BY ord
     ON CONFLICT (agency_id, ultravox_call_id, event) WHERE source = 'ultravox' DO NOTHING
     RETURNING id, agency_id, ultravox_call_id, event
   )
   SELECT stored.id, input.ord FROM stored JOIN input USING (agency_id, ultravox_call_id, event)`,
);

const SELECT_EVENT = statement(
  'ultravox_events_select',
  `SELECT id, agency_id AS "agencyId", payload, processed_at AS "processedAt", created_at AS "createdAt"
     FROM call_events WHERE id = $1 AND source = 'ultravox'`,
);

const MARK_PROCESSED = statement(
  'ultravox_events_mark_processed',
  `UPDATE call_events SET processed_at = now(), call_id = $2 WHERE id = $1`,
);

const MARK_IGNORED = statement(
  'ultravox_events_mark_ignored',
  `UPDATE call_events SET processed_at = now(), detail = $2 WHERE id = $1`,
);

/** Stored at least `$1` ago (its job had its chance) and within a day (older ones are given up). */
const SELECT_UNPROCESSED = statement(
  'ultravox_events_unprocessed',
  `SELECT id FROM call_events WHERE source = 'ultravox' AND processed_at IS NULL
     AND created_at < $1 AND created_at > now() - interval '1 day' ORDER BY created_at LIMIT $2`,
);

/**
 * Writes a batch of events with `insertUnique` and returns, for each input, its stored id or null.
 * Several requests in one batch may carry the same (agency, callId, event): only the first is written,
 * the others are duplicates like a redelivery. `insertUnique` returns the rows it stored with their
 * 1-based ordinality among the events it was given, in any order; an event without a row was stored
 * before.
 */
export async function storeFirstOfEach(
  events: readonly UltravoxEventInput[],
  insertUnique: (unique: UltravoxEventInput[]) => Promise<{ id: string; ord: string }[]>,
): Promise<(string | null)[]> {
  const seen = new Set<string>();
  const unique: UltravoxEventInput[] = [];
  const uniqueIndex = events.map((e) => {
    const key = JSON.stringify([e.agencyId, e.callId, e.event]);
    if (seen.has(key)) return -1;
    seen.add(key);
    return unique.push(e) - 1;
  });
  const stored = byOrdinality(await insertUnique(unique), unique.length);
  return uniqueIndex.map((u) => {
    const row = u === -1 ? null : stored[u];
    return row ? String(row.id) : null;
  });
}

/**
 * Ultravox's webhooks as received (call_events rows with source 'ultravox'): stored once per
 * (agency, call, event), then processed by the worker. Ingest is a hot path: the events of one
 * event-loop turn share one prepared INSERT.
 */
@Injectable()
export class UltravoxEventsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The stored event's id, or null for a duplicate. Fails with pg's 23503 when the agency is gone. */
  readonly store = batchPerTick((events: readonly UltravoxEventInput[]) => this.storeMany(events));

  async find(id: string): Promise<StoredUltravoxEvent | null> {
    const [row] = await runSql<StoredUltravoxEvent>(this.db, SELECT_EVENT, [id]);
    return row ? { ...row, id: String(row.id) } : null;
  }

  /** Processed, and tied to the call it turned out to be about. */
  async markProcessed(id: string, callId: string): Promise<void> {
    await runSql(this.db, MARK_PROCESSED, [id, callId]);
  }

  /** Settled without a call: the event was about a call that is not the agency's (`why` says so). */
  async markIgnored(id: string, why: string): Promise<void> {
    await runSql(this.db, MARK_IGNORED, [id, why]);
  }

  /** Ids of events still unprocessed that were stored before `before` (at most `limit`, oldest first). */
  async unprocessed(before: Date, limit: number): Promise<string[]> {
    const rows = await runSql<{ id: string }>(this.db, SELECT_UNPROCESSED, [before, limit]);
    return rows.map((row) => String(row.id));
  }

  private storeMany(events: readonly UltravoxEventInput[]): Promise<(string | null)[]> {
    return storeFirstOfEach(events, (unique) =>
      runSql<{ id: string; ord: string }>(this.db, INSERT_EVENTS, [
        unique.map((e) => e.agencyId),
        unique.map((e) => e.callId),
        unique.map((e) => e.event),
        JSON.stringify(unique.map((e) => e.payload)),
      ]),
    );
  }
}
