import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ANY_ROLE, Auth, CurrentAuth, WRITE_ROLES } from '../../auth/auth.decorator';
import type { AuthContext } from '../../auth/auth-context';
import { uuidParam } from '../../common/errors/validation';
import { ApiErrors } from '../../common/errors/api-error-responses.decorator';
import { DeliveriesService } from './deliveries.service';
import {
  DeliveryListResponseDto,
  DeliveryQueryDto,
  DeliveryResponseDto,
  RecoverDeliveriesDto,
  RecoverDeliveriesResponseDto,
} from './dto/delivery.dto';

@ApiTags('Webhooks')
@Controller()
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  /** Deliveries to the integration page's webhook_url, newest first, each with every attempt. */
  @Get('api/v1/integrations/api/deliveries')
  @Auth({ roles: ANY_ROLE, apiKey: true })
  async integrationDeliveries(
    @CurrentAuth() auth: AuthContext,
    @Query() query: DeliveryQueryDto,
  ): Promise<DeliveryListResponseDto> {
    const page = await this.deliveries.list(auth.agencyId, { integration: true }, query);
    return { success: true, data: page.items, next_cursor: page.nextCursor };
  }

  /**
   * Sends the deliveries to the integration page's webhook_url that failed from `since` to `until` (at
   * most 14 days back) again, each once, with the whole retry schedule and within the endpoint's
   * in-flight cap. 409 while no webhook_url is set or it is disabled.
   */
  @Post('api/v1/integrations/api/deliveries/recover')
  @HttpCode(202)
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 409: ['webhook_disabled'] })
  async recoverIntegration(
    @CurrentAuth() auth: AuthContext,
    @Body() dto: RecoverDeliveriesDto,
  ): Promise<RecoverDeliveriesResponseDto> {
    return {
      success: true,
      queued: await this.deliveries.recover(auth.agencyId, { integration: true }, dto),
    };
  }

  /** One delivery with every attempt: status code, duration, error and the first 1 KB of the answer. */
  @Get('api/v1/webhook-deliveries/:id')
  @Auth({ roles: ANY_ROLE, apiKey: true })
  @ApiErrors({ 404: ['delivery_not_found'] })
  async get(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
  ): Promise<DeliveryResponseDto> {
    return { success: true, data: await this.deliveries.get(auth.agencyId, id) };
  }

  /** Sends one delivery again now (also one that failed for good); the attempt joins its log. */
  @Post('api/v1/webhook-deliveries/:id/retry')
  @HttpCode(202)
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 404: ['delivery_not_found'] })
  async retry(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
  ): Promise<DeliveryResponseDto> {
    return { success: true, data: await this.deliveries.retry(auth.agencyId, id) };
  }
}
