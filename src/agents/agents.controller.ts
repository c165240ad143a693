import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ANY_ROLE, Auth, CurrentAuth, WRITE_ROLES } from '../auth/auth.decorator';
import type { AuthContext } from '../auth/auth-context';
import { uuidParam } from '../common/errors/validation';
import { ApiErrors } from '../common/errors/api-error-responses.decorator';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { SuccessResponseDto } from '../common/dto/success-response.dto';
import { AgentsService } from './agents.service';
import { AgentListResponseDto, AgentResponseDto, CreateAgentDto, UpdateAgentDto } from './dto/agent.dto';

@ApiTags('Agents')
@Controller('api/v1/agents')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  /**
   * Creates an agent: the Ultravox agent to call with, its caller id, provider and calling window. With
   * a stored Ultravox key, `ultravox_agent_id` is checked at Ultravox first (see `ultravox_check`).
   */
  @Post()
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 422: ['ultravox_agent_not_found'] })
  async create(@CurrentAuth() auth: AuthContext, @Body() dto: CreateAgentDto): Promise<AgentResponseDto> {
    return { success: true, data: await this.agents.create(auth.agencyId, dto) };
  }

  /** The agency's agents, newest first. */
  @Get()
  @Auth({ roles: ANY_ROLE, apiKey: true })
  async list(@CurrentAuth() auth: AuthContext, @Query() query: PageQueryDto): Promise<AgentListResponseDto> {
    const page = await this.agents.list(auth.agencyId, query);
    return { success: true, data: page.items, next_cursor: page.nextCursor };
  }

  /** One agent of the agency. */
  @Get(':id')
  @Auth({ roles: ANY_ROLE, apiKey: true })
  @ApiErrors({ 404: ['agent_not_found'] })
  async get(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
  ): Promise<AgentResponseDto> {
    return { success: true, data: await this.agents.get(auth.agencyId, id) };
  }

  /** Changes any of the agent's fields; `calling_window: null` removes the window. */
  @Patch(':id')
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 404: ['agent_not_found'], 422: ['ultravox_agent_not_found'] })
  async update(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
    @Body() dto: UpdateAgentDto,
  ): Promise<AgentResponseDto> {
    return { success: true, data: await this.agents.update(auth.agencyId, id, dto) };
  }

  /** Deletes the agent; it stops being the agency's default agent if it was. */
  @Delete(':id')
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 404: ['agent_not_found'] })
  async remove(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
  ): Promise<SuccessResponseDto> {
    await this.agents.remove(auth.agencyId, id);
    return { success: true };
  }
}
