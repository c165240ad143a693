import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ANY_ROLE, Auth, CurrentAuth, OWNER_ONLY } from '../auth/auth.decorator';
import type { AuthContext } from '../auth/auth-context';
import { SuccessResponseDto } from '../common/dto/success-response.dto';
import { ApiErrors } from '../common/errors/api-error-responses.decorator';
import {
  SaveUltravoxIntegrationDto,
  SaveUltravoxIntegrationResponseDto,
  UltravoxIntegrationResponseDto,
  WebhookUrlResponseDto,
} from './dto/save-ultravox-integration.dto';
import { UltravoxIntegrationService } from './ultravox-integration.service';

@ApiTags('Ultravox integration')
@Controller()
export class UltravoxIntegrationController {
  constructor(private readonly integration: UltravoxIntegrationService) {}

  /**
   * Validates (unless `skip_validation`), encrypts and stores the agency's Ultravox API key; with
   * `register_webhook`, registers the ingest URL at Ultravox with a signing secret.
   */
  @Post('functions/v1/save-ultravox-integration')
  @HttpCode(200)
  @Auth({ roles: OWNER_ONLY })
  @ApiErrors({ 400: ['ultravox_key_rejected'], 502: ['ultravox_unavailable'] })
  async save(
    @CurrentAuth() auth: AuthContext,
    @Body() dto: SaveUltravoxIntegrationDto,
  ): Promise<SaveUltravoxIntegrationResponseDto> {
    return { success: true, webhook_url: await this.integration.save(auth.agencyId, dto) };
  }

  /** Whether a key is stored, when it was added and validated, and the ingest URL. Never the key. */
  @Get('api/v1/integrations/ultravox')
  @Auth({ roles: ANY_ROLE })
  async get(@CurrentAuth() auth: AuthContext): Promise<UltravoxIntegrationResponseDto> {
    return { success: true, data: await this.integration.get(auth.agencyId) };
  }

  /** Removes the stored key (and the webhook registered at Ultravox with it). */
  @Delete('api/v1/integrations/ultravox')
  @Auth({ roles: OWNER_ONLY })
  async remove(@CurrentAuth() auth: AuthContext): Promise<SuccessResponseDto> {
    await this.integration.remove(auth.agencyId);
    return { success: true };
  }

  /** Replaces the secret in the ingest URL; a registered Ultravox webhook is updated to the new URL. */
  @Post('api/v1/integrations/ultravox/rotate-webhook-secret')
  @HttpCode(200)
  @Auth({ roles: OWNER_ONLY })
  @ApiOperation({ summary: 'Rotate the ingest URL secret' })
  @ApiErrors({ 400: ['ultravox_key_rejected'], 502: ['ultravox_unavailable'] })
  async rotate(@CurrentAuth() auth: AuthContext): Promise<WebhookUrlResponseDto> {
    return { success: true, webhook_url: await this.integration.rotateIngestSecret(auth.agencyId) };
  }
}
