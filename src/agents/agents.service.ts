import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { Page } from '../common/pagination';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { Agent, UltravoxCheck } from './agent.entity';
import { AgentsRepository } from './agents.repository';
import { AgentDto, CreateAgentDto, UpdateAgentDto } from './dto/agent.dto';
import { UltravoxAgentCheck } from './ultravox-agent-check';

const WARNINGS: Record<UltravoxCheck, string | null> = {
  verified: null,
  not_checked: null,
  unverified:
    'Ultravox could not be reached to check ultravox_agent_id; it is checked again before each call until Ultravox confirms it',
  key_rejected:
    'Ultravox rejected the stored API key, so ultravox_agent_id could not be checked; calls fail until the key is replaced',
};

export function toAgentDto(agent: Agent): AgentDto {
  return {
    id: agent.id,
    name: agent.name,
    ultravox_agent_id: agent.ultravoxAgentId,
    phone_number: agent.phoneNumber,
    telephony_provider: agent.telephonyProvider,
    calling_window: agent.callingWindow,
    ultravox_check: agent.ultravoxCheck,
    ultravox_checked_at: agent.ultravoxCheckedAt,
    context_variables: agent.contextVariables,
    warning: WARNINGS[agent.ultravoxCheck],
    record_calls: agent.recordCalls,
    created_at: agent.createdAt,
    updated_at: agent.updatedAt,
  };
}

/** Agents of one agency; every query is scoped by agencyId, so another agency's agent is simply not found. */
@Injectable()
export class AgentsService {
  constructor(
    private readonly agents: AgentsRepository,
    private readonly ultravoxCheck: UltravoxAgentCheck,
  ) {}

  async create(agencyId: string, dto: CreateAgentDto): Promise<AgentDto> {
    const checked = await this.ultravoxCheck.onSave(agencyId, dto.ultravox_agent_id);
    const agent = await this.agents.insert({
      agencyId,
      ...checked,
      name: dto.name,
      ultravoxAgentId: dto.ultravox_agent_id,
      phoneNumber: dto.phone_number ?? null,
      telephonyProvider: dto.telephony_provider ?? 'twilio',
      callingWindow: dto.calling_window ?? null,
      recordCalls: dto.record_calls ?? false,
    });
    return toAgentDto(agent);
  }

  async list(agencyId: string, query: PageQueryDto): Promise<Page<AgentDto>> {
    const page = await this.agents.page(agencyId, query);
    return { items: page.items.map(toAgentDto), nextCursor: page.nextCursor };
  }

  async get(agencyId: string, id: string): Promise<AgentDto> {
    return toAgentDto(await this.find(agencyId, id));
  }

  async update(agencyId: string, id: string, dto: UpdateAgentDto): Promise<AgentDto> {
    const agent = await this.find(agencyId, id);
    if (dto.name !== undefined) agent.name = dto.name;
    if (dto.ultravox_agent_id !== undefined && dto.ultravox_agent_id !== agent.ultravoxAgentId) {
      Object.assign(agent, await this.ultravoxCheck.onSave(agencyId, dto.ultravox_agent_id));
      agent.ultravoxAgentId = dto.ultravox_agent_id;
    }
    if (dto.phone_number !== undefined) agent.phoneNumber = dto.phone_number;
    if (dto.telephony_provider !== undefined) agent.telephonyProvider = dto.telephony_provider;
    if (dto.calling_window !== undefined) agent.callingWindow = dto.calling_window;
    if (dto.record_calls !== undefined) agent.recordCalls = dto.record_calls;
    return toAgentDto(await this.agents.save(agent));
  }

  async remove(agencyId: string, id: string): Promise<void> {
    if (!(await this.agents.delete(agencyId, id))) throw this.notFound(id);
  }

  /** The agent, only if it belongs to this agency. */
  async find(agencyId: string, id: string): Promise<Agent> {
    const agent = await this.agents.find(agencyId, id);
    if (!agent) throw this.notFound(id);
    return agent;
  }

  private notFound(id: string): ApiError {
    return ApiError.notFound('agent_not_found', `No agent ${id} in this agency`);
  }
}
