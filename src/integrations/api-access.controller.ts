import { Body, Controller, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ANY_ROLE, Auth, CurrentAuth, OWNER_ONLY, WRITE_ROLES } from '../auth/auth.decorator';
import type { AuthContext } from '../auth/auth-context';
import { ApiErrors } from '../common/errors/api-error-responses.decorator';
import { ApiAccessService } from './api-access.service';
import { ApiAccessResponseDto, NewApiKeyResponseDto, UpdateApiAccessDto } from './dto/api-access.dto';

@ApiTags('API access')
@Controller('api/v1/integrations/api')
export class ApiAccessController {
  constructor(private readonly apiAccess: ApiAccessService) {}

  /** Generates the agency's API key, shown only in this answer. The previous key is revoked at once. */
  @Post('key')
  @HttpCode(200)
  @Auth({ roles: OWNER_ONLY })
  async generateKey(@CurrentAuth() auth: AuthContext): Promise<NewApiKeyResponseDto> {
    return { success: true, api_key: await this.apiAccess.generateKey(auth.agencyId) };
  }

  /** API access settings: enabled, the key's prefix and last 4 characters, webhook URL, default agent. */
  @Get()
  @Auth({ roles: ANY_ROLE })
  async get(@CurrentAuth() auth: AuthContext): Promise<ApiAccessResponseDto> {
    return { success: true, data: await this.apiAccess.get(auth.agencyId) };
  }

  /** Changes any of `enabled`, `webhook_url`, `default_agent_id`. */
  @Patch()
  @Auth({ roles: WRITE_ROLES })
  @ApiErrors({ 404: ['agent_not_found'] })
  async update(
    @CurrentAuth() auth: AuthContext,
    @Body() dto: UpdateApiAccessDto,
  ): Promise<ApiAccessResponseDto> {
    return { success: true, data: await this.apiAccess.update(auth.agencyId, dto) };
  }
}
