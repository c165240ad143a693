import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { CallingWindow } from '../common/calling-window/calling-window';
import { nextOpening } from '../common/calling-window/next-opening';
import { governingWindow, InvalidWindow } from '../common/calling-window/stored-window';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors/api-error';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { BulkJobs, DialJob, QUEUES } from '../common/queues';
import { addInBulk } from '../database/bulk-jobs';
import type { Tx } from '../database/sql';
import { dialJob } from './call-jobs';
import { TriggerCallDto, TriggerCallResponseDto } from './dto/trigger-call.dto';
import { CallTransitions, CreatedCall, NewCall } from './lifecycle/call-transitions.service';
import { emptyVariables, templateContextOf } from './template-context';
import { TriggerLookup, TriggerLookupsRepository } from './trigger-lookups.repository';

export type { CreatedCall, NewCall } from './lifecycle/call-transitions.service';

/** Accepts calls (CONTRACT §5.3): checks, decides queued or scheduled, stores, and hands over to the dialer. */
@Injectable()
export class CallsService {
  private readonly logger = new Logger(CallsService.name);

  /** Concurrent enqueues share one Redis round trip (addBulk) per event-loop turn. */
  private readonly addDialJobs: (jobs: BulkJobs<DialJob>) => Promise<void>;

  constructor(
    private readonly lookups: TriggerLookupsRepository,
    private readonly transitions: CallTransitions,
    @InjectQueue(QUEUES.callDial) dialQueue: Queue<DialJob>,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.addDialJobs = addInBulk(dialQueue, config.timeouts.redisMs);
  }

  async trigger(agencyId: string, dto: TriggerCallDto): Promise<TriggerCallResponseDto> {
    const found = await this.lookups.lookUp({ agencyId, agentId: dto.agent_id ?? null, phone: dto.phone });
    if (!found) throw new Error(`agency ${agencyId} vanished after authentication`);
    const agentId = checkTriggerable(found, dto.phone);
    const window = triggerWindow(found, agentId);
    const opensAt = window ? nextOpening(window, this.clock.now()) : null;
    const call = await this.transitions.created({
      agencyId,
      agentId,
      phoneNumber: dto.phone,
      name: dto.name ?? null,
      email: dto.email ?? null,
      metadata: dto.metadata ?? null,
      scheduledFor: opensAt,
      record: dto.record ?? null,
      campaignId: null,
      note: opensAt ? `outside the calling window; dials at ${opensAt.toISOString()}` : null,
    });
    await this.enqueueDial(call.id, opensAt);
    const missing = emptyVariables(
      templateContextOf({
        phoneNumber: dto.phone,
        name: dto.name ?? null,
        email: dto.email ?? null,
        metadata: dto.metadata ?? null,
      }),
      found.agent_context_variables,
    );
    return opensAt
      ? {
          success: true,
          call_id: call.id,
          status: 'scheduled',
          scheduled_for: opensAt.toISOString(),
          missing_variables: missing,
        }
      : { success: true, call_id: call.id, status: 'queued', missing_variables: missing };
  }

  /**
   * Stores outbound calls (queued, or scheduled when `scheduledFor` is set), each with the first line of
   * its timeline, in one statement inside the caller's transaction, and returns them in order.
   * Campaigns create calls here; the caller enqueues the dials after commit.
   */
  createCalls(tx: Tx, fields: readonly NewCall[]): Promise<CreatedCall[]> {
    return this.transitions.createdIn(tx, fields);
  }

  /**
   * jobId = call id: enqueueing twice is harmless. The call is already stored as queued or scheduled, so
   * a job lost here is found again by the calls sweeper (CallsSweeper.dueCalls).
   */
  async enqueueDial(callId: string, at: Date | null): Promise<void> {
    const delay = at ? Math.max(0, at.getTime() - this.clock.now().getTime()) : 0;
    try {
      await this.addDialJobs([dialJob(callId, delay)]);
    } catch (err) {
      this.logger.warn({
        msg: 'dial enqueue failed; the sweeper will pick the call up',
        callId,
        err: (err as Error).message,
      });
    }
  }
}

/**
 * The window the call is placed in: the agent's, else the agency's. One stored invalid (written before
 * input was checked) refuses the calls it governs with a 422 that says which setting to fix, rather
 * than reaching the window maths, which throw on it.
 */
function triggerWindow(found: TriggerLookup, agentId: string): CallingWindow | null {
  const window = governingWindow([
    ['agent', found.agent_window],
    ['agency', found.agency_window],
  ]);
  if (!(window instanceof InvalidWindow)) return window;
  const [setting, fix] =
    window.owner === 'agent'
      ? [`Agent ${found.agent_name}'s calling_window`, `PATCH /api/v1/agents/${agentId}`]
      : ["The agency's calling_window", 'PATCH /api/v1/agency'];
  throw ApiError.unprocessable('invalid_calling_window', `${setting} is stored invalid: ${window.problem}`, {
    hint: `Store a valid calling_window (or null for any time) with ${fix}`,
  });
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
