import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { Agency } from '../agencies/agency.entity';
import { Agent } from '../agents/agent.entity';
import { effectiveWindow, nextOpening } from '../common/calling-window/next-opening';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors/api-error';
import { DialJob, JOBS, QUEUES } from '../common/queues';
import { DncService } from '../dnc/dnc.service';
import { Call, CallEvent } from './call.entity';
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

/** Accepts calls (CONTRACT §5.3): checks, decides queued or scheduled, stores, and hands over to the dialer. */
@Injectable()
export class CallsService {
  private readonly logger = new Logger(CallsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(Agency) private readonly agencies: Repository<Agency>,
    @InjectRepository(Agent) private readonly agents: Repository<Agent>,
    @InjectQueue(QUEUES.callDial) private readonly dialQueue: Queue<DialJob>,
    private readonly clock: Clock,
    private readonly dnc: DncService,
  ) {}

  async trigger(agencyId: string, dto: TriggerCallDto): Promise<TriggerCallResponseDto> {
    const agency = await this.agencies.findOneByOrFail({ id: agencyId });
    const agent = await this.agentFor(agency, dto.agent_id);
    if (!agency.ultravoxApiKeyEncrypted) {
      throw ApiError.unprocessable(
        'ultravox_not_configured',
        'This agency has not saved an Ultravox API key',
        {
          hint: 'Save one with POST /functions/v1/save-ultravox-integration',
        },
      );
    }
    if (await this.dnc.isListed(agencyId, dto.phone)) {
      throw ApiError.unprocessable('number_on_dnc', `${dto.phone} is on this agency's do-not-call list`, {
        hint: `Remove it with DELETE /api/v1/dnc/${encodeURIComponent(dto.phone)} only if the callee asked to be called again`,
      });
    }
    const window = effectiveWindow(agent.callingWindow, agency.callingWindow);
    const opensAt = window ? nextOpening(window, this.clock.now()) : null;
    const call = await this.dataSource.transaction((em) =>
      this.createCall(em, {
        agencyId,
        agentId: agent.id,
        phoneNumber: dto.phone,
        name: dto.name ?? null,
        email: dto.email ?? null,
        metadata: dto.metadata ?? null,
        scheduledFor: opensAt,
        campaignId: null,
        note: opensAt ? `outside the calling window; dials at ${opensAt.toISOString()}` : null,
      }),
    );
    await this.enqueueDial(call.id, opensAt);
    return opensAt
      ? { success: true, call_id: call.id, status: 'scheduled', scheduled_for: opensAt.toISOString() }
      : { success: true, call_id: call.id, status: 'queued' };
  }

  /**
   * Stores an outbound call (queued, or scheduled when `scheduledFor` is set) with the first line of its
   * timeline, inside the caller's transaction. Trigger-call and campaigns both create calls here; the
   * caller enqueues the dial after commit.
   */
  async createCall(em: EntityManager, fields: NewCall): Promise<Call> {
    const { note, ...columns } = fields;
    const call = em.create(Call, {
      ...columns,
      direction: 'outbound',
      status: fields.scheduledFor ? 'scheduled' : 'queued',
    });
    await em.insert(Call, call);
    await em.insert(CallEvent, {
      agencyId: call.agencyId,
      callId: call.id,
      source: 'switchboard',
      event: call.status,
      detail: note,
    });
    return call;
  }

  /** jobId = call id: enqueueing twice is harmless. A lost job is found again by the calls sweeper. */
  async enqueueDial(callId: string, at: Date | null): Promise<void> {
    const delay = at ? Math.max(0, at.getTime() - this.clock.now().getTime()) : 0;
    try {
      await this.dialQueue.add(
        JOBS.dial,
        { callId },
        { jobId: callId, delay, removeOnComplete: 1000, removeOnFail: 5000 },
      );
    } catch (err) {
      this.logger.warn({
        msg: 'dial enqueue failed; the sweeper will pick the call up',
        callId,
        err: (err as Error).message,
      });
    }
  }

  private async agentFor(agency: Agency, agentId: string | undefined): Promise<Agent> {
    const id = agentId ?? agency.defaultAgentId;
    if (!id) {
      throw ApiError.badRequest('no_agent', 'No agent_id given and the agency has no default agent', {
        hint: 'Pass agent_id, or set default_agent_id with PATCH /api/v1/integrations/api',
      });
    }
    const agent = await this.agents.findOneBy({ id, agencyId: agency.id });
    if (!agent) throw ApiError.notFound('agent_not_found', `No agent ${id} in this agency`);
    if (!agent.phoneNumber) {
      throw ApiError.unprocessable(
        'agent_has_no_phone_number',
        `Agent ${agent.name} has no phone number to call from`,
        {
          hint: `Set phone_number with PATCH /api/v1/agents/${agent.id}`,
        },
      );
    }
    return agent;
  }
}
