import { HttpStatus, Injectable } from '@nestjs/common';
import { Agent } from '../agents/agent.entity';
import { AgentsRepository } from '../agents/agents.repository';
import { CallTransitions } from '../calls/lifecycle/call-transitions.service';
import { ApiError } from '../common/errors/api-error';
import { Page } from '../common/pagination';
import { parseDurationList } from '../config/app-config';
import type { Tx } from '../database/sql';
import { Emit, WebhookOutbox } from '../webhooks/delivery/webhook-outbox.service';
import { Campaign, CampaignStatus } from './campaign.entity';
import { allowedActions, CAMPAIGN_TRANSITIONS, CampaignAction, CampaignEvent } from './campaign-transitions';
import { CampaignsRepository } from './campaigns.repository';
import { ContactsRepository } from './contacts/contacts.repository';
import {
  CampaignDto,
  CampaignQueryDto,
  CampaignStatsDto,
  CreateCampaignDto,
  UpdateCampaignDto,
} from './dto/campaign.dto';

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
    paused_reason: campaign.pausedReason,
    max_concurrency: campaign.maxConcurrency,
    calling_window: campaign.callingWindow,
    record: campaign.record,
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
    private readonly campaigns: CampaignsRepository,
    private readonly contacts: ContactsRepository,
    private readonly agents: AgentsRepository,
    private readonly outbox: WebhookOutbox,
    private readonly transitions: CallTransitions,
  ) {}

  async create(agencyId: string, dto: CreateCampaignDto): Promise<CampaignDto> {
    if (dto.agent_id) await this.agentOf(agencyId, dto.agent_id);
    const campaign = await this.campaigns.insert({
      agencyId,
      name: dto.name,
      agentId: dto.agent_id ?? null,
      status: 'draft',
      maxConcurrency: dto.max_concurrency ?? 5,
      callingWindow: dto.calling_window ?? null,
      retryMaxAttempts: dto.retry?.max_attempts ?? 1,
      retryOn: dto.retry?.on ?? [],
      retryDelayMs: dto.retry ? parseDurationList(dto.retry.delay)[0] : 0,
      record: dto.record ?? null,
    });
    return this.get(agencyId, campaign.id);
  }

  async list(agencyId: string, query: CampaignQueryDto): Promise<Page<CampaignDto>> {
    const page = await this.campaigns.page(agencyId, query.status, query);
    const stats = await this.campaigns.stats(page.items.map((c) => c.id));
    return { items: page.items.map((c) => toCampaignDto(c, stats[c.id])), nextCursor: page.nextCursor };
  }

  async get(agencyId: string, id: string): Promise<CampaignDto> {
    const campaign = await this.find(agencyId, id);
    const stats = await this.campaigns.stats([id]);
    return toCampaignDto(campaign, stats[id]);
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
    if (dto.record !== undefined) campaign.record = dto.record;
    if (dto.retry !== undefined) {
      campaign.retryMaxAttempts = dto.retry.max_attempts;
      campaign.retryOn = dto.retry.on;
      campaign.retryDelayMs = parseDurationList(dto.retry.delay)[0];
    }
    await this.campaigns.saveDraft(campaign);
    return this.get(agencyId, id);
  }

  /** start / pause / resume / cancel; an impossible one is 409 naming the allowed ones. */
  async act(agencyId: string, id: string, action: CampaignAction): Promise<CampaignDto> {
    const campaign = await this.find(agencyId, id);
    const transition = CAMPAIGN_TRANSITIONS[action];
    if (!transition.from.includes(campaign.status)) throw this.invalidTransition(campaign.status, action);
    if (action === 'start') await this.checkStartable(campaign);
    const moved = await this.outbox.transaction(async (tx, emit) => {
      // After a tick that is creating calls has committed them, so that they are withdrawn too.
      await this.campaigns.lock(tx, id);
      if (!(await this.campaigns.transition(tx, id, action, new Date()))) return false;
      if (action === 'pause' || action === 'cancel') await this.withdrawUndialedCalls(tx, id, action);
      if (action === 'cancel') await this.contacts.cancelPending(tx, id);
      if (transition.event) await this.emitCampaignEvent(tx, emit, id, transition.event);
      return true;
    });
    if (!moved) throw this.invalidTransition((await this.find(agencyId, id)).status, action);
    return this.get(agencyId, id);
  }

  /**
   * Pauses a running campaign as the pause action does (undialed calls withdrawn, campaign.paused), from
   * inside a transaction that holds its lock, recording why; false when it was not running.
   */
  async pauseLocked(tx: Tx, emit: Emit, campaignId: string, reason: string): Promise<boolean> {
    if (!(await this.campaigns.transition(tx, campaignId, 'pause', new Date(), reason))) return false;
    await this.withdrawUndialedCalls(tx, campaignId, 'pause');
    await this.emitCampaignEvent(tx, emit, campaignId, 'campaign.paused');
    return true;
  }

  /** Emits a campaign event with the campaign as it is now inside `tx`'s transaction. */
  async emitCampaignEvent(tx: Tx, emit: Emit, campaignId: string, event: CampaignEvent): Promise<void> {
    const campaign = await this.campaigns.get(tx, campaignId);
    const stats = await this.campaigns.stats([campaignId], tx);
    await emit(campaign.agencyId, event, campaignEventFields(campaign, stats[campaignId]));
  }

  /**
   * Pause and cancel stop dials that have not happened yet: the campaign's calls still queued or
   * scheduled (created by a tick, waiting for the agency's live-call cap or a retry) become `canceled`
   * (failure_reason `campaign_paused` / `campaign_canceled`, a line in their timeline, no webhook: they
   * never rang). Their contacts go back to `pending` on pause, that attempt not counted, so resume dials
   * them again; on cancel they end `canceled`. A call already dialing is left to finish.
   */
  private async withdrawUndialedCalls(tx: Tx, campaignId: string, action: 'pause' | 'cancel'): Promise<void> {
    const withdrawn = await this.transitions.withdrawCampaignCalls(
      tx,
      campaignId,
      action === 'pause' ? 'campaign_paused' : 'campaign_canceled',
    );
    await this.contacts.releaseWithdrawn(tx, withdrawn, action);
  }

  async find(agencyId: string, id: string): Promise<Campaign> {
    const campaign = await this.campaigns.find(agencyId, id);
    if (!campaign) throw ApiError.notFound('campaign_not_found', `No campaign ${id} in this agency`);
    return campaign;
  }

  /**
   * The variables the Ultravox context schema of the campaign's agent declares (its own agent, else the
   * agency's default, as it would be resolved at start); null when it declares none or there is no agent.
   */
  async contextVariables(campaign: Campaign): Promise<string[] | null> {
    const agentId = campaign.agentId ?? (await this.campaigns.startChecks(campaign.id)).defaultAgentId;
    if (!agentId) return null;
    return (await this.agents.find(campaign.agencyId, agentId))?.contextVariables ?? null;
  }

  /** The agent a campaign calls with: its own, or the agency's default (resolved at start). */
  private async checkStartable(campaign: Campaign): Promise<void> {
    const agency = await this.campaigns.startChecks(campaign.id);
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
    if (!agency.hasUltravoxKey) {
      throw ApiError.unprocessable(
        'ultravox_not_configured',
        'This agency has not saved an Ultravox API key',
      );
    }
    if ((await this.contacts.count(campaign.id)) === 0)
      throw ApiError.conflict('campaign_empty', 'Import contacts before starting the campaign');
    if (!campaign.agentId) await this.campaigns.setAgent(campaign.id, agentId);
  }

  private async agentOf(agencyId: string, agentId: string): Promise<Agent> {
    const agent = await this.agents.find(agencyId, agentId);
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
