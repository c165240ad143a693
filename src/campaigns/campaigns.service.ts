import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, Repository } from 'typeorm';
import { Agency } from '../agencies/agency.entity';
import { Agent } from '../agents/agent.entity';
import { CallTransitions } from '../calls/lifecycle/call-transitions.service';
import { ApiError } from '../common/errors/api-error';
import { Page } from '../common/pagination';
import { paginate } from '../database/pagination';
import { parseDurationList } from '../config/app-config';
import { Emit, WebhookOutbox } from '../webhooks/delivery/webhook-outbox.service';
import { lockCampaign } from './campaign-lock';
import { Campaign, CampaignStatus } from './campaign.entity';
import { campaignStats, emptyCampaignStats } from './campaign-stats';
import {
  CampaignDto,
  CampaignQueryDto,
  CampaignStatsDto,
  CreateCampaignDto,
  UpdateCampaignDto,
} from './dto/campaign.dto';

export type CampaignAction = 'start' | 'pause' | 'resume' | 'cancel';

/** draft → running ⇄ paused → finished | canceled (finished is reached by the dispatcher, not by hand). */
const TRANSITIONS: Record<
  CampaignAction,
  {
    from: CampaignStatus[];
    to: CampaignStatus;
    event?: 'campaign.started' | 'campaign.paused' | 'campaign.finished';
  }
> = {
  start: { from: ['draft'], to: 'running', event: 'campaign.started' },
  pause: { from: ['running'], to: 'paused', event: 'campaign.paused' },
  resume: { from: ['paused'], to: 'running' },
  cancel: { from: ['draft', 'running', 'paused'], to: 'canceled', event: 'campaign.finished' },
};

export function allowedActions(status: CampaignStatus): CampaignAction[] {
  return (Object.keys(TRANSITIONS) as CampaignAction[]).filter((a) => TRANSITIONS[a].from.includes(status));
}

/**
 * Pause and cancel stop dials that have not happened yet: the campaign's calls still queued or
 * scheduled (created by a tick, waiting for the agency's live-call cap or a retry) become `canceled`
 * (failure_reason `campaign_paused` / `campaign_canceled`, a line in their timeline, no webhook: they
 * never rang). Their contacts go back to `pending` on pause, that attempt not counted, so resume dials
 * them again; on cancel they end `canceled`. A call already dialing is left to finish.
 */
async function withdrawUndialedCalls(
  em: EntityManager,
  transitions: CallTransitions,
  campaignId: string,
  action: 'pause' | 'cancel',
) {
  const withdrawn = await transitions.withdrawCampaignCalls(
    em,
    campaignId,
    action === 'pause' ? 'campaign_paused' : 'campaign_canceled',
  );
  if (withdrawn.length === 0) return;
  await em.query(
    `UPDATE campaign_contacts c
        SET status = CASE WHEN $2 THEN 'pending' ELSE 'canceled' END,
            attempts = CASE WHEN $2 THEN c.attempts - 1 ELSE c.attempts END,
            last_outcome = CASE WHEN $2 THEN c.last_outcome ELSE 'canceled' END,
            updated_at = now()
      WHERE c.last_call_id = ANY($1::uuid[]) AND c.status = 'in_progress'`,
    [withdrawn, action === 'pause'],
  );
}

function formatDelay(ms: number): string {
  return ms % 3_600_000 === 0 && ms > 0
    ? `${ms / 3_600_000}h`
    : ms % 60_000 === 0 && ms > 0
      ? `${ms / 60_000}m`
      : ms % 1000 === 0
        ? `${ms / 1000}s`
        : `${ms}ms`;
}

export function toCampaignDto(campaign: Campaign, stats: CampaignStatsDto): CampaignDto {
  return {
    id: campaign.id,
    name: campaign.name,
    agent_id: campaign.agentId,
    status: campaign.status,
    max_concurrency: campaign.maxConcurrency,
    calling_window: campaign.callingWindow,
    retry: {
      max_attempts: campaign.retryMaxAttempts,
      on: campaign.retryOn,
      delay: formatDelay(campaign.retryDelayMs),
    },
    stats,
    created_at: campaign.createdAt,
    started_at: campaign.startedAt,
    finished_at: campaign.finishedAt,
  };
}

/** The payload of campaign.* events (CONTRACT §6). */
export function campaignEventFields(campaign: Campaign, stats: CampaignStatsDto): Record<string, unknown> {
  return { campaign_id: campaign.id, name: campaign.name, status: campaign.status, stats };
}

@Injectable()
export class CampaignsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(Campaign) private readonly campaigns: Repository<Campaign>,
    @InjectRepository(Agent) private readonly agents: Repository<Agent>,
    private readonly outbox: WebhookOutbox,
    private readonly transitions: CallTransitions,
  ) {}

  async create(agencyId: string, dto: CreateCampaignDto): Promise<CampaignDto> {
    if (dto.agent_id) await this.agentOf(agencyId, dto.agent_id);
    const campaign = this.campaigns.create({
      agencyId,
      name: dto.name,
      agentId: dto.agent_id ?? null,
      status: 'draft',
      maxConcurrency: dto.max_concurrency ?? 5,
      callingWindow: dto.calling_window ?? null,
      retryMaxAttempts: dto.retry?.max_attempts ?? 1,
      retryOn: dto.retry?.on ?? [],
      retryDelayMs: dto.retry ? parseDurationList(dto.retry.delay)[0] : 0,
    });
    await this.campaigns.save(campaign);
    return this.get(agencyId, campaign.id);
  }

  async list(agencyId: string, query: CampaignQueryDto): Promise<Page<CampaignDto>> {
    const qb = this.campaigns
      .createQueryBuilder('campaign')
      .where('campaign.agency_id = :agencyId', { agencyId });
    if (query.status) qb.andWhere('campaign.status = :status', { status: query.status });
    const page = await paginate(qb, query);
    const stats = await campaignStats(
      this.dataSource.manager,
      page.items.map((c) => c.id),
    );
    return {
      items: page.items.map((c) => toCampaignDto(c, stats.get(c.id) ?? emptyCampaignStats())),
      nextCursor: page.nextCursor,
    };
  }

  async get(agencyId: string, id: string): Promise<CampaignDto> {
    const campaign = await this.find(agencyId, id);
    const stats = await campaignStats(this.dataSource.manager, [id]);
    return toCampaignDto(campaign, stats.get(id) ?? emptyCampaignStats());
  }

  /** Only a draft can be edited. */
  async update(agencyId: string, id: string, dto: UpdateCampaignDto): Promise<CampaignDto> {
    const campaign = await this.find(agencyId, id);
    if (campaign.status !== 'draft') {
      throw ApiError.conflict('campaign_not_draft', `A ${campaign.status} campaign cannot be edited`, {
        hint: 'Only draft campaigns can be changed',
      });
    }
    if (dto.agent_id) await this.agentOf(agencyId, dto.agent_id);
    if (dto.name !== undefined) campaign.name = dto.name;
    if (dto.agent_id !== undefined) campaign.agentId = dto.agent_id;
    if (dto.max_concurrency !== undefined) campaign.maxConcurrency = dto.max_concurrency;
    if (dto.calling_window !== undefined) campaign.callingWindow = dto.calling_window;
    if (dto.retry !== undefined) {
      campaign.retryMaxAttempts = dto.retry.max_attempts;
      campaign.retryOn = dto.retry.on;
      campaign.retryDelayMs = parseDurationList(dto.retry.delay)[0];
    }
    await this.campaigns.save(campaign);
    return this.get(agencyId, id);
  }

  /** start / pause / resume / cancel; an impossible one is 409 naming the allowed ones. */
  async act(agencyId: string, id: string, action: CampaignAction): Promise<CampaignDto> {
    const campaign = await this.find(agencyId, id);
    const transition = TRANSITIONS[action];
    if (!transition.from.includes(campaign.status)) throw this.invalidTransition(campaign.status, action);
    if (action === 'start') await this.checkStartable(campaign);
    const moved = await this.outbox.transaction(async (em, emit) => {
      // After a tick that is creating calls has committed them, so that they are withdrawn too.
      await lockCampaign(em, id);
      const changes: Partial<Campaign> = { status: transition.to };
      if (action === 'start') changes.startedAt = new Date();
      if (action === 'cancel') changes.finishedAt = new Date();
      const { affected } = await em.update(Campaign, { id, status: In(transition.from) }, changes);
      if (!affected) return false;
      if (action === 'pause' || action === 'cancel')
        await withdrawUndialedCalls(em, this.transitions, id, action);
      if (action === 'cancel') {
        await em.query(
          `UPDATE campaign_contacts SET status = 'canceled', last_outcome = 'canceled', updated_at = now()
            WHERE campaign_id = $1 AND status = 'pending'`,
          [id],
        );
      }
      if (transition.event) await this.emitCampaignEvent(em, emit, id, transition.event);
      return true;
    });
    if (!moved) throw this.invalidTransition((await this.find(agencyId, id)).status, action);
    return this.get(agencyId, id);
  }

  /** Emits a campaign event with the campaign as it is now inside `em`'s transaction. */
  async emitCampaignEvent(
    em: EntityManager,
    emit: Emit,
    campaignId: string,
    event: 'campaign.started' | 'campaign.paused' | 'campaign.finished',
  ): Promise<void> {
    const campaign = await em.findOneByOrFail(Campaign, { id: campaignId });
    const stats = await campaignStats(em, [campaignId]);
    await emit(
      campaign.agencyId,
      event,
      campaignEventFields(campaign, stats.get(campaignId) ?? emptyCampaignStats()),
    );
  }

  async find(agencyId: string, id: string): Promise<Campaign> {
    const campaign = await this.campaigns.findOneBy({ id, agencyId });
    if (!campaign) throw ApiError.notFound('campaign_not_found', `No campaign ${id} in this agency`);
    return campaign;
  }

  /** The agent a campaign calls with: its own, or the agency's default (resolved at start). */
  private async checkStartable(campaign: Campaign): Promise<void> {
    const agency = await this.dataSource.getRepository(Agency).findOneByOrFail({ id: campaign.agencyId });
    const agentId = campaign.agentId ?? agency.defaultAgentId;
    if (!agentId) {
      throw ApiError.unprocessable(
        'no_agent',
        'The campaign has no agent_id and the agency has no default agent',
      );
    }
    const agent = await this.agentOf(campaign.agencyId, agentId);
    if (!agent.phoneNumber) {
      throw ApiError.unprocessable(
        'agent_has_no_phone_number',
        `Agent ${agent.name} has no phone number to call from`,
      );
    }
    if (!agency.ultravoxApiKeyEncrypted) {
      throw ApiError.unprocessable(
        'ultravox_not_configured',
        'This agency has not saved an Ultravox API key',
      );
    }
    const [{ n }] = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM campaign_contacts WHERE campaign_id = $1`,
      [campaign.id],
    )) as [{ n: number }];
    if (n === 0) throw ApiError.conflict('campaign_empty', 'Import contacts before starting the campaign');
    if (!campaign.agentId) await this.campaigns.update(campaign.id, { agentId });
  }

  private async agentOf(agencyId: string, agentId: string): Promise<Agent> {
    const agent = await this.agents.findOneBy({ id: agentId, agencyId });
    if (!agent) throw ApiError.notFound('agent_not_found', `No agent ${agentId} in this agency`);
    return agent;
  }

  private invalidTransition(status: CampaignStatus, action: CampaignAction): ApiError {
    const allowed = allowedActions(status);
    return new ApiError(HttpStatus.CONFLICT, 'invalid_transition', `Cannot ${action} a ${status} campaign`, {
      hint: allowed.length
        ? `Allowed now: ${allowed.join(', ')}`
        : `A ${status} campaign cannot change any more`,
      details: [
        { field: 'status', message: `${status}: allowed actions are ${allowed.join(', ') || 'none'}` },
      ],
    });
  }
}
