import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, getMetadataArgsStorage } from 'typeorm';
import { batchPerTick } from '../../database/batch-per-tick';
import { Db, literals, runSql, statement, Tx } from '../../database/sql';
import { Call, CallStatus, TERMINAL_STATUSES } from '../call.entity';

export interface NewCall {
  agencyId: string;
  agentId: string;
  campaignId: string | null;
  phoneNumber: string;
  name: string | null;
  email: string | null;
  metadata: object | null;
  scheduledFor: Date | null;
  /** Record it (true) or not (false); null follows the agent's `record_calls`. */
  record: boolean | null;
  /** Detail of the call's first timeline entry. */
  note: string | null;
}

export interface CreatedCall {
  id: string;
  status: CallStatus;
}

/** What `started`, `completed` and `failed` may set besides the status. */
export type CallChanges = Partial<
  Pick<
    Call,
    | 'status'
    | 'failureReason'
    | 'startedAt'
    | 'endedAt'
    | 'durationSeconds'
    | 'endReason'
    | 'summary'
    | 'shortSummary'
    | 'sentiment'
    | 'transcript'
  >
>;

/** A call as a status change left it, with what its webhook event's payload needs besides. */
export type ChangedCall = Call & { agentName: string | null };

const CLAIMABLE = literals<CallStatus>('queued', 'scheduled');
const LIVE = literals<CallStatus>('dialing', 'in_progress');
const SWITCHBOARD = `'switchboard'`;

/**
 * Every column of `calls` (qualified, for UPDATE … FROM) as the Call entity's property, read from the
 * entity's own decorators: a column added to the entity is returned without anyone listing it here.
 */
const CALL_COLUMNS = getMetadataArgsStorage()
  .columns.filter((column) => column.target === Call)
  .map(({ propertyName, options }) => {
    const name = options.name ?? propertyName;
    return name === propertyName ? `calls.${name}` : `calls.${name} AS "${propertyName}"`;
  })
  .join(', ');

/**
 * Calls and the first line of each one's timeline, in one statement (atomic on its own, so no
 * transaction is needed). The input is a JSON array: one parameter whatever the batch size.
 */
const INSERT_CALLS = statement(
  'calls_insert_with_first_event',
  `WITH input AS (
     SELECT * FROM json_to_recordset($1::json) AS x(
       id uuid, agency_id uuid, agent_id uuid, campaign_id uuid, status text, phone_number text,
       name text, email text, metadata json, scheduled_for timestamptz, record boolean, note text)
   ), call AS (
     INSERT INTO calls (id, agency_id, agent_id, campaign_id, direction, status, phone_number, name,
                        email, metadata, scheduled_for, recording_enabled)
     SELECT input.id, input.agency_id, input.agent_id, campaign_id, 'outbound', status, input.phone_number,
            input.name, email, metadata, scheduled_for, coalesce(input.record, agent.record_calls, false)
       FROM input LEFT JOIN agents agent ON agent.id = input.agent_id
     RETURNING id, agency_id, status
   )
   INSERT INTO call_events (agency_id, call_id, source, event, detail)
   SELECT call.agency_id, call.id, ${SWITCHBOARD}, call.status, input.note FROM call JOIN input USING (id)
   RETURNING call_id`,
);

/**
 * A live call's change of status (CallChanges as a JSON object: only the keys present are set) with its
 * timeline line, in one statement; RETURNING the whole call (as the Call entity's properties) and its
 * agent's name, which the event's payload needs. $3: only if it has not started. $5: the line's note,
 * after the failure reason.
 */
const CHANGE_LIVE_CALL = statement(
  'calls_change_live_call',
  `WITH input AS (SELECT $2::jsonb AS c),
   changed AS (
     UPDATE calls SET
       status = coalesce(c->>'status', status),
       failure_reason = CASE WHEN c ? 'failureReason' THEN c->>'failureReason' ELSE failure_reason END,
       started_at = CASE WHEN c ? 'startedAt' THEN (c->>'startedAt')::timestamptz ELSE started_at END,
       ended_at = CASE WHEN c ? 'endedAt' THEN (c->>'endedAt')::timestamptz ELSE ended_at END,
       duration_seconds =
         CASE WHEN c ? 'durationSeconds' THEN (c->>'durationSeconds')::integer ELSE duration_seconds END,
       end_reason = CASE WHEN c ? 'endReason' THEN c->>'endReason' ELSE end_reason END,
       summary = CASE WHEN c ? 'summary' THEN c->>'summary' ELSE summary END,
       short_summary = CASE WHEN c ? 'shortSummary' THEN c->>'shortSummary' ELSE short_summary END,
       sentiment = CASE WHEN c ? 'sentiment' THEN c->>'sentiment' ELSE sentiment END,
       transcript = CASE WHEN c ? 'transcript' THEN nullif(c->'transcript', 'null'::jsonb) ELSE transcript END,
       updated_at = now()
       FROM input
      WHERE calls.id = $1 AND calls.status NOT IN (${literals<CallStatus>(...TERMINAL_STATUSES)})
        AND (NOT $3::boolean OR calls.started_at IS NULL)
     RETURNING ${CALL_COLUMNS}
   ), noted AS (
     INSERT INTO call_events (agency_id, call_id, source, event, detail)
     SELECT "agencyId", id, ${SWITCHBOARD}, $4,
            nullif(concat_ws('; ', nullif("failureReason", ''), nullif($5::text, '')), '')
       FROM changed
   )
   SELECT changed.*, agent.name AS "agentName" FROM changed LEFT JOIN agents agent ON agent.id = changed."agentId"`,
);

/** A call Switchboard did not place, first seen in its Ultravox webhook; at most once per Ultravox call. */
const INSERT_INBOUND = statement(
  'calls_insert_inbound',
  `WITH call AS (
     INSERT INTO calls (agency_id, agent_id, direction, status, ultravox_call_id, phone_number)
     VALUES ($1, $2, 'inbound', ${literals<CallStatus>('dialing')}, $3, $4)
     ON CONFLICT (agency_id, ultravox_call_id) WHERE ultravox_call_id IS NOT NULL DO NOTHING
     RETURNING id, agency_id
   )
   INSERT INTO call_events (agency_id, call_id, source, event, detail)
   SELECT agency_id, id, ${SWITCHBOARD}, ${literals<CallStatus>('dialing')}, 'inbound call, first seen in its Ultravox webhook'
     FROM call`,
);

/** Serialises the claims of one agency, so its live-call cap holds across workers. */
const LOCK_AGENCY_DIALS = statement(
  'calls_lock_agency_dials',
  `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
);

/** queued/scheduled → dialing if still claimable and the agency is under its cap, with its timeline line. */
const CLAIM_FOR_DIAL = statement(
  'calls_claim_for_dial',
  `WITH marked AS (
     UPDATE calls SET status = ${literals<CallStatus>('dialing')}, dial_attempts = dial_attempts + 1,
                      dialed_at = $3, updated_at = now()
      WHERE id = $1 AND status IN (${CLAIMABLE})
        AND (SELECT count(*) FROM calls WHERE agency_id = $2 AND status IN (${LIVE})) < $4
     RETURNING id, agency_id, dial_attempts
   ), noted AS (
     INSERT INTO call_events (agency_id, call_id, source, event, detail)
     SELECT agency_id, id, ${SWITCHBOARD}, ${literals<CallStatus>('dialing')}, 'attempt ' || dial_attempts FROM marked
   )
   SELECT dial_attempts FROM marked`,
);

/**
 * dialing (and not placed) → queued, not before `$2`: scheduled_for doubles as "not before", so the
 * sweeper leaves the call alone until then. With its timeline line.
 */
const RELEASE = statement(
  'calls_release',
  `WITH released AS (
     UPDATE calls SET status = ${literals<CallStatus>('queued')}, scheduled_for = $2, updated_at = now()
      WHERE id = $1 AND status = ${literals<CallStatus>('dialing')} AND ultravox_call_id IS NULL
     RETURNING id, agency_id
   )
   INSERT INTO call_events (agency_id, call_id, source, event, detail)
   SELECT agency_id, id, ${SWITCHBOARD}, $3, $4 FROM released`,
);

/** dialing with no Ultravox call (the dial's answer was lost, Ultravox has no such call) → queued. */
const REQUEUE_LOST_DIAL = statement(
  'calls_requeue_lost_dial',
  `WITH requeued AS (
     UPDATE calls SET status = ${literals<CallStatus>('queued')}, updated_at = now()
      WHERE id = $1 AND status = ${literals<CallStatus>('dialing')} AND ultravox_call_id IS NULL
     RETURNING id, agency_id
   )
   INSERT INTO call_events (agency_id, call_id, source, event, detail)
   SELECT agency_id, id, ${SWITCHBOARD}, $2, $3 FROM requeued
   RETURNING call_id`,
);

/** The Ultravox call placed for this call, once; with its timeline line. */
const ATTACH_ULTRAVOX_CALL = statement(
  'calls_attach_ultravox_call',
  `WITH attached AS (
     UPDATE calls SET ultravox_call_id = $2, updated_at = now()
      WHERE id = $1 AND ultravox_call_id IS NULL
     RETURNING id, agency_id
   )
   INSERT INTO call_events (agency_id, call_id, source, event, detail)
   SELECT agency_id, id, ${SWITCHBOARD}, $3, 'ultravox call ' || $2 FROM attached`,
);

/** A campaign's calls that have not rung yet → canceled, each with its timeline line. */
const WITHDRAW_CAMPAIGN_CALLS = statement(
  'calls_withdraw_campaign_calls',
  `WITH withdrawn AS (
     UPDATE calls SET status = ${literals<CallStatus>('canceled')}, failure_reason = $2, ended_at = now(),
                      updated_at = now()
      WHERE campaign_id = $1 AND status IN (${CLAIMABLE})
     RETURNING id, agency_id
   ), noted AS (
     INSERT INTO call_events (agency_id, call_id, source, event, detail)
     SELECT agency_id, id, ${SWITCHBOARD}, ${literals<CallStatus>('canceled')}, $2 FROM withdrawn
   )
   SELECT id FROM withdrawn`,
);

/**
 * The SQL of CallTransitions, and of nothing else: every statement that writes calls.status is here,
 * conditional on the status it leaves, and writes the call's timeline line with it. Only
 * CallTransitions uses this repository.
 */
@Injectable()
export class CallTransitionsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Concurrent triggers share one INSERT per event-loop turn (trigger-call is a hot path). */
  readonly insertOutbound = batchPerTick((calls: readonly NewCall[]) =>
    this.insertOutboundIn(this.db, calls),
  );

  /** Outbound calls, queued or (when `scheduledFor` is set) scheduled, with their first line; in order. */
  async insertOutboundIn(db: Db, calls: readonly NewCall[]): Promise<CreatedCall[]> {
    const rows = calls.map((call): CreatedCall & Record<string, unknown> => ({
      id: randomUUID(),
      status: call.scheduledFor ? 'scheduled' : 'queued',
      agency_id: call.agencyId,
      agent_id: call.agentId,
      campaign_id: call.campaignId,
      phone_number: call.phoneNumber,
      name: call.name,
      email: call.email,
      metadata: call.metadata,
      scheduled_for: call.scheduledFor,
      record: call.record,
      note: call.note,
    }));
    const stored = await runSql<{ call_id: string }>(db, INSERT_CALLS, [JSON.stringify(rows)]);
    if (stored.length !== rows.length) {
      throw new Error(`stored ${stored.length} of ${rows.length} calls`);
    }
    return rows.map(({ id, status }) => ({ id, status }));
  }

  /** An inbound call for this Ultravox call, unless one exists already. */
  async insertInbound(
    agencyId: string,
    agentId: string,
    ultravoxCallId: string,
    callerNumber: string | null,
  ): Promise<void> {
    await runSql(this.db, INSERT_INBOUND, [agencyId, agentId, ultravoxCallId, callerNumber]);
  }

  /** The new dial_attempts, or null when the call was not claimable or the agency is at its cap. */
  async claimForDial(
    tx: Tx,
    call: Pick<Call, 'id' | 'agencyId'>,
    now: Date,
    cap: number,
  ): Promise<number | null> {
    await runSql(tx, LOCK_AGENCY_DIALS, [call.agencyId]);
    const [marked] = await runSql<{ dial_attempts: number }>(tx, CLAIM_FOR_DIAL, [
      call.id,
      call.agencyId,
      now,
      cap,
    ]);
    return marked?.dial_attempts ?? null;
  }

  async release(callId: string, notBefore: Date, event: string, detail: string): Promise<void> {
    await runSql(this.db, RELEASE, [callId, notBefore, event, detail]);
  }

  /** True when the call was requeued. */
  async requeueLostDial(callId: string, event: string, detail: string): Promise<boolean> {
    return (await runSql(this.db, REQUEUE_LOST_DIAL, [callId, event, detail])).length > 0;
  }

  async attachUltravoxCall(callId: string, ultravoxCallId: string, event: string): Promise<void> {
    await runSql(this.db, ATTACH_ULTRAVOX_CALL, [callId, ultravoxCallId, event]);
  }

  /** Ids of the calls withdrawn. */
  async withdrawCampaignCalls(tx: Tx, campaignId: string, reason: string): Promise<string[]> {
    const rows = await runSql<{ id: string }>(tx, WITHDRAW_CAMPAIGN_CALLS, [campaignId, reason]);
    return rows.map((row) => row.id);
  }

  /**
   * Applies `changes` if the call has not ended (and, with `notStartedOnly`, has not started) and writes
   * its timeline line (`event`, the failure reason and `note`), in one statement; the call as it is
   * then, with its agent's name, or null when nothing changed.
   */
  async changeLiveCall(
    tx: Tx,
    callId: string,
    changes: CallChanges & Pick<Call, 'status'>,
    notStartedOnly: boolean,
    event: string,
    note: string | null,
  ): Promise<ChangedCall | null> {
    const [call] = await runSql<ChangedCall>(tx, CHANGE_LIVE_CALL, [
      callId,
      JSON.stringify(changes),
      notStartedOnly,
      event,
      note,
    ]);
    return call ?? null;
  }
}
