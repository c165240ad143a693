import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { CallingWindow } from '../common/calling-window/calling-window';
import { effectiveWindow, nextOpening } from '../common/calling-window/next-opening';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors/api-error';
import { batchPerTick } from '../common/batch-per-tick';
import { addInBulk, BulkJobs } from '../common/queues';
import { DialJob, JOBS, QUEUES } from '../common/queues';
import { byOrdinality, runSql, statement } from '../database/sql';
import { CallStatus } from './call.entity';
import { TriggerCallDto, TriggerCallResponseDto } from './dto/trigger-call.dto';

export interface NewCall {
  agencyId: string;
  agentId: string;
  campaignId: string | null;
  phoneNumber: string;
  name: string | null;
  email: string | null;
  metadata: object | null;
  scheduledFor: Date | null;
  /** Detail of the call's first timeline entry. */
  note: string | null;
}

export interface CreatedCall {
  id: string;
  status: CallStatus;
}

interface TriggerLookup {
  ultravox_configured: boolean;
  agency_window: CallingWindow | null;
  wanted_agent_id: string | null;
  agent_id: string | null;
  agent_name: string | null;
  agent_phone: string | null;
  agent_window: CallingWindow | null;
  on_dnc: boolean;
}

/**
 * Everything trigger-call checks, for a batch of requests in one round trip: each one's agency, agent
 * (given or the default) and whether the number is on the agency's DNC list.
 */
const TRIGGER_LOOKUPS = statement(
  'calls_trigger_lookups',
  `SELECT r.ord,
          a.ultravox_api_key_encrypted IS NOT NULL AS ultravox_configured,
          a.calling_window AS agency_window,
          coalesce(r.agent_id, a.default_agent_id) AS wanted_agent_id,
          g.id AS agent_id, g.name AS agent_name, g.phone_number AS agent_phone,
          g.calling_window AS agent_window,
          EXISTS (SELECT 1 FROM dnc_numbers d WHERE d.agency_id = a.id AND d.phone_number = r.phone) AS on_dnc
     FROM unnest($1::uuid[], $2::uuid[], $3::text[]) WITH ORDINALITY AS r(agency_id, agent_id, phone, ord)
     JOIN agencies a ON a.id = r.agency_id
     LEFT JOIN agents g ON g.id = coalesce(r.agent_id, a.default_agent_id) AND g.agency_id = a.id`,
);

/**
 * Calls and the first line of each one's timeline, in one statement (atomic on its own, so no
 * transaction is needed). The input is a JSON array: one parameter whatever the batch size.
 */
const INSERT_CALLS = statement(
  'calls_insert_with_first_event',
  `WITH input AS (
     SELECT * FROM json_to_recordset($1::json) AS x(
       id uuid, agency_id uuid, agent_id uuid, campaign_id uuid, status text, phone_number text,
       name text, email text, metadata json, scheduled_for timestamptz, note text)
   ), call AS (
     INSERT INTO calls (id, agency_id, agent_id, campaign_id, direction, status, phone_number, name,
                        email, metadata, scheduled_for)
     SELECT id, agency_id, agent_id, campaign_id, 'outbound', status, phone_number, name, email,
            metadata, scheduled_for
       FROM input
     RETURNING id, agency_id, status
   )
   INSERT INTO call_events (agency_id, call_id, source, event, detail)
   SELECT call.agency_id, call.id, 'switchboard', call.status, input.note FROM call JOIN input USING (id)
   RETURNING call_id`,
);

interface LookupRequest {
  agencyId: string;
  agentId: string | null;
  phone: string;
}

/** Accepts calls (CONTRACT §5.3): checks, decides queued or scheduled, stores, and hands over to the dialer. */
@Injectable()
export class CallsService {
  private readonly logger = new Logger(CallsService.name);

  /** Concurrent triggers share one lookup statement per event-loop turn. */
  private readonly lookUp = batchPerTick(async (requests: readonly LookupRequest[]) => {
    const rows = await runSql<TriggerLookup & { ord: string }>(this.dataSource, TRIGGER_LOOKUPS, [
      requests.map((r) => r.agencyId),
      requests.map((r) => r.agentId),
      requests.map((r) => r.phone),
    ]);
    return byOrdinality(rows, requests.length);
  });

  /** Concurrent triggers share one INSERT statement per event-loop turn. */
  private readonly storeCall = batchPerTick((calls: readonly NewCall[]) =>
    insertCalls(this.dataSource, calls),
  );

  /** Concurrent enqueues share one Redis round trip (addBulk) per event-loop turn. */
  private readonly addDialJobs: (jobs: BulkJobs<DialJob>) => Promise<void>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QUEUES.callDial) dialQueue: Queue<DialJob>,
    private readonly clock: Clock,
  ) {
    this.addDialJobs = addInBulk(dialQueue);
  }

  async trigger(agencyId: string, dto: TriggerCallDto): Promise<TriggerCallResponseDto> {
    const found = await this.lookUp({ agencyId, agentId: dto.agent_id ?? null, phone: dto.phone });
    if (!found) throw new Error(`agency ${agencyId} vanished after authentication`);
    const agentId = checkTriggerable(found, dto.phone);
    const window = effectiveWindow(found.agent_window, found.agency_window);
    const opensAt = window ? nextOpening(window, this.clock.now()) : null;
    const call = await this.storeCall({
      agencyId,
      agentId,
      phoneNumber: dto.phone,
      name: dto.name ?? null,
      email: dto.email ?? null,
      metadata: dto.metadata ?? null,
      scheduledFor: opensAt,
      campaignId: null,
      note: opensAt ? `outside the calling window; dials at ${opensAt.toISOString()}` : null,
    });
    await this.enqueueDial(call.id, opensAt);
    return opensAt
      ? { success: true, call_id: call.id, status: 'scheduled', scheduled_for: opensAt.toISOString() }
      : { success: true, call_id: call.id, status: 'queued' };
  }

  /**
   * Stores outbound calls (queued, or scheduled when `scheduledFor` is set), each with the first line of
   * its timeline, in one statement inside the caller's transaction, and returns them in order.
   * Campaigns create calls here; the caller enqueues the dials after commit.
   */
  async createCalls(em: EntityManager, fields: readonly NewCall[]): Promise<CreatedCall[]> {
    return fields.length === 0 ? [] : insertCalls(em, fields);
  }

  /**
   * jobId = call id: enqueueing twice is harmless. The call is already stored as queued or scheduled, so
   * a job lost here is found again by the calls sweeper (CallsSweeper.dueCalls).
   */
  async enqueueDial(callId: string, at: Date | null): Promise<void> {
    const delay = at ? Math.max(0, at.getTime() - this.clock.now().getTime()) : 0;
    try {
      await this.addDialJobs([
        {
          name: JOBS.dial,
          data: { callId },
          opts: { jobId: callId, delay, removeOnComplete: 1000, removeOnFail: 5000 },
        },
      ]);
    } catch (err) {
      this.logger.warn({
        msg: 'dial enqueue failed; the sweeper will pick the call up',
        callId,
        err: (err as Error).message,
      });
    }
  }
}

/** The §5.3 refusals, in the contract's order; returns the agent to call with. */
function checkTriggerable(found: TriggerLookup, phone: string): string {
  if (!found.wanted_agent_id) {
    throw ApiError.badRequest('no_agent', 'No agent_id given and the agency has no default agent', {
      hint: 'Pass agent_id, or set default_agent_id with PATCH /api/v1/integrations/api',
    });
  }
  if (!found.agent_id) {
    throw ApiError.notFound('agent_not_found', `No agent ${found.wanted_agent_id} in this agency`);
  }
  if (!found.agent_phone) {
    throw ApiError.unprocessable(
      'agent_has_no_phone_number',
      `Agent ${found.agent_name} has no phone number to call from`,
      { hint: `Set phone_number with PATCH /api/v1/agents/${found.agent_id}` },
    );
  }
  if (!found.ultravox_configured) {
    throw ApiError.unprocessable('ultravox_not_configured', 'This agency has not saved an Ultravox API key', {
      hint: 'Save one with POST /functions/v1/save-ultravox-integration',
    });
  }
  if (found.on_dnc) {
    throw ApiError.unprocessable('number_on_dnc', `${phone} is on this agency's do-not-call list`, {
      hint: `Remove it with DELETE /api/v1/dnc/${encodeURIComponent(phone)} only if the callee asked to be called again`,
    });
  }
  return found.agent_id;
}

async function insertCalls(
  source: DataSource | EntityManager,
  calls: readonly NewCall[],
): Promise<CreatedCall[]> {
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
    note: call.note,
  }));
  const stored = await runSql<{ call_id: string }>(source, INSERT_CALLS, [JSON.stringify(rows)]);
  if (stored.length !== rows.length) {
    throw new Error(`stored ${stored.length} of ${rows.length} calls`);
  }
  return rows.map(({ id, status }) => ({ id, status }));
}
