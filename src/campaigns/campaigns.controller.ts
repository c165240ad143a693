import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ANY_ROLE, Auth, CurrentAuth, WRITE_ROLES } from '../auth/auth.decorator';
import type { AuthContext } from '../auth/auth-context';
import { ApiErrors } from '../common/errors/api-error-responses.decorator';
import { uuidParam } from '../common/errors/validation';
import { CampaignsService } from './campaigns.service';
import {
  CampaignListResponseDto,
  CampaignQueryDto,
  CampaignResponseDto,
  CreateCampaignDto,
  UpdateCampaignDto,
} from './dto/campaign.dto';

@ApiTags('Campaigns')
@Controller('api/v1/campaigns')
export class CampaignsController {
  constructor(private readonly campaigns: CampaignsService) {}

  /** Creates a draft campaign: who calls, how many at once, when, and what is retried. */
  @Post()
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 404: ['agent_not_found'] })
  async create(
    @CurrentAuth() auth: AuthContext,
    @Body() dto: CreateCampaignDto,
  ): Promise<CampaignResponseDto> {
    return { success: true, data: await this.campaigns.create(auth.agencyId, dto) };
  }

  /** The agency's campaigns, newest first, each with live contact stats. */
  @Get()
  @Auth({ roles: ANY_ROLE, apiKey: true })
  async list(
    @CurrentAuth() auth: AuthContext,
    @Query() query: CampaignQueryDto,
  ): Promise<CampaignListResponseDto> {
    const page = await this.campaigns.list(auth.agencyId, query);
    return { success: true, data: page.items, next_cursor: page.nextCursor };
  }

  /** One campaign with its live contact stats. */
  @Get(':id')
  @Auth({ roles: ANY_ROLE, apiKey: true })
  @ApiErrors({ 404: ['campaign_not_found'] })
  async get(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
  ): Promise<CampaignResponseDto> {
    return { success: true, data: await this.campaigns.get(auth.agencyId, id) };
  }

  /** Changes a draft campaign (409 once started). */
  @Patch(':id')
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 404: ['campaign_not_found', 'agent_not_found'], 409: ['campaign_not_draft'] })
  async update(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
    @Body() dto: UpdateCampaignDto,
  ): Promise<CampaignResponseDto> {
    return { success: true, data: await this.campaigns.update(auth.agencyId, id, dto) };
  }

  /** draft → running; emits `campaign.started`. Needs contacts and a usable agent. */
  @Post(':id/start')
  @HttpCode(200)
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({
    404: ['campaign_not_found', 'agent_not_found'],
    409: ['invalid_transition', 'campaign_empty'],
    422: ['no_agent', 'agent_has_no_phone_number', 'ultravox_not_configured'],
  })
  async start(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
  ): Promise<CampaignResponseDto> {
    return { success: true, data: await this.campaigns.act(auth.agencyId, id, 'start') };
  }

  /** running → paused: no new dials (live calls finish); emits `campaign.paused`. */
  @Post(':id/pause')
  @HttpCode(200)
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 404: ['campaign_not_found'], 409: ['invalid_transition'] })
  async pause(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
  ): Promise<CampaignResponseDto> {
    return { success: true, data: await this.campaigns.act(auth.agencyId, id, 'pause') };
  }

  /** paused → running. */
  @Post(':id/resume')
  @HttpCode(200)
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 404: ['campaign_not_found'], 409: ['invalid_transition'] })
  async resume(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
  ): Promise<CampaignResponseDto> {
    return { success: true, data: await this.campaigns.act(auth.agencyId, id, 'resume') };
  }

  /** Stops for good: waiting contacts are canceled, live calls finish; emits `campaign.finished`. */
  @Post(':id/cancel')
  @HttpCode(200)
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 404: ['campaign_not_found'], 409: ['invalid_transition'] })
  async cancel(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
  ): Promise<CampaignResponseDto> {
    return { success: true, data: await this.campaigns.act(auth.agencyId, id, 'cancel') };
  }
}
