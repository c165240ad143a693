import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ANY_ROLE, Auth, CurrentAuth, WRITE_ROLES } from '../auth/auth.decorator';
import type { AuthContext } from '../auth/auth-context';
import { AgenciesService } from './agencies.service';
import { AgencyResponseDto, UpdateAgencyDto } from './dto/agency.dto';

@ApiTags('Agency')
@Controller('api/v1/agency')
export class AgencyController {
  constructor(private readonly agencies: AgenciesService) {}

  /** The caller's agency: name and agency-wide calling window. */
  @Get()
  @Auth({ roles: ANY_ROLE, apiKey: true })
  async get(@CurrentAuth() auth: AuthContext): Promise<AgencyResponseDto> {
    return { success: true, data: await this.agencies.settings(auth.agencyId) };
  }

  /** Renames the agency or sets its calling window (agents' own windows override it). */
  @Patch()
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  async update(@CurrentAuth() auth: AuthContext, @Body() dto: UpdateAgencyDto): Promise<AgencyResponseDto> {
    return { success: true, data: await this.agencies.updateSettings(auth.agencyId, dto) };
  }
}
