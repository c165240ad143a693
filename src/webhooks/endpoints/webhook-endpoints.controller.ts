import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ANY_ROLE, Auth, CurrentAuth, WRITE_ROLES } from '../../auth/auth.decorator';
import type { AuthContext } from '../../auth/auth-context';
import { uuidParam } from '../../common/errors/validation';
import { ApiErrors } from '../../common/errors/api-error-responses.decorator';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { SuccessResponseDto } from '../../common/dto/success-response.dto';
import { DeliveriesService } from '../delivery/deliveries.service';
import {
  DeliveryListResponseDto,
  DeliveryQueryDto,
  RecoverDeliveriesDto,
  RecoverDeliveriesResponseDto,
} from '../delivery/dto/delivery.dto';
import {
  CreateWebhookDto,
  UpdateWebhookDto,
  WebhookListResponseDto,
  WebhookResponseDto,
  WebhookTestResponseDto,
  WebhookWithSecretResponseDto,
} from './dto/webhook-endpoint.dto';
import { WebhookEndpointsService } from './webhook-endpoints.service';

@ApiTags('Webhooks')
@Controller('api/v1/webhooks')
export class WebhookEndpointsController {
  constructor(
    private readonly endpoints: WebhookEndpointsService,
    private readonly deliveries: DeliveriesService,
  ) {}

  /** Creates an endpoint. The `whsec_` secret is in this answer only (and at rotation). */
  @Post()
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  async create(
    @CurrentAuth() auth: AuthContext,
    @Body() dto: CreateWebhookDto,
  ): Promise<WebhookWithSecretResponseDto> {
    return { success: true, data: await this.endpoints.create(auth.agencyId, dto) };
  }

  /** The agency's endpoints, newest first (without secrets). */
  @Get()
  @Auth({ roles: ANY_ROLE, apiKey: true })
  async list(
    @CurrentAuth() auth: AuthContext,
    @Query() query: PageQueryDto,
  ): Promise<WebhookListResponseDto> {
    const page = await this.endpoints.list(auth.agencyId, query);
    return { success: true, data: page.items, next_cursor: page.nextCursor };
  }

  /** One endpoint of the agency, without its secret. */
  @Get(':id')
  @Auth({ roles: ANY_ROLE, apiKey: true })
  @ApiErrors({ 404: ['webhook_not_found'] })
  async get(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
  ): Promise<WebhookResponseDto> {
    return { success: true, data: await this.endpoints.get(auth.agencyId, id) };
  }

  /** Changes url, events or active (true re-enables an endpoint switched off after a 410). */
  @Patch(':id')
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 404: ['webhook_not_found'] })
  async update(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
    @Body() dto: UpdateWebhookDto,
  ): Promise<WebhookResponseDto> {
    return { success: true, data: await this.endpoints.update(auth.agencyId, id, dto) };
  }

  /** Deletes the endpoint and its delivery log. */
  @Delete(':id')
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 404: ['webhook_not_found'] })
  async remove(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
  ): Promise<SuccessResponseDto> {
    await this.endpoints.remove(auth.agencyId, id);
    return { success: true };
  }

  /** A new secret, shown once. The old one keeps signing beside it for 24 h, so receivers can switch over. */
  @Post(':id/rotate-secret')
  @HttpCode(200)
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 404: ['webhook_not_found'] })
  async rotate(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
  ): Promise<WebhookWithSecretResponseDto> {
    return { success: true, data: await this.endpoints.rotateSecret(auth.agencyId, id) };
  }

  /** Sends a signed `webhook.test` event to this endpoint now. */
  @Post(':id/test')
  @HttpCode(202)
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 404: ['webhook_not_found'] })
  async test(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
  ): Promise<WebhookTestResponseDto> {
    const { deliveryId, eventId } = await this.endpoints.sendTest(auth.agencyId, id);
    return { success: true, delivery_id: deliveryId, event_id: eventId };
  }

  /** This endpoint's deliveries, newest first, each with every attempt. Filter by `status` and `event`. */
  @Get(':id/deliveries')
  @Auth({ roles: ANY_ROLE, apiKey: true })
  @ApiErrors({ 404: ['webhook_not_found'] })
  async deliveriesOf(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
    @Query() query: DeliveryQueryDto,
  ): Promise<DeliveryListResponseDto> {
    await this.endpoints.find(auth.agencyId, id);
    const page = await this.deliveries.list(auth.agencyId, { endpointId: id }, query);
    return { success: true, data: page.items, next_cursor: page.nextCursor };
  }

  /**
   * Sends this endpoint's deliveries that failed from `since` to `until` (at most 14 days back) again,
   * each once, with the whole retry schedule and within the endpoint's in-flight cap. 409 while the
   * endpoint is disabled.
   */
  @Post(':id/recover')
  @HttpCode(202)
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiErrors({ 404: ['webhook_not_found'], 409: ['webhook_disabled'] })
  async recover(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
    @Body() dto: RecoverDeliveriesDto,
  ): Promise<RecoverDeliveriesResponseDto> {
    return { success: true, queued: await this.deliveries.recover(auth.agencyId, { endpointId: id }, dto) };
  }
}
