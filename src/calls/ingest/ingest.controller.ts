import { Controller, HttpCode, Param, Post, RawBodyRequest, Req } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public } from '../../auth/auth.decorator';
import { ApiErrors } from '../../common/errors/api-error-responses.decorator';
import { RequestHeader } from '../../common/http/request-header.decorator';
import { RedactInLogs } from '../../common/logging';
import { IngestService } from './ingest.service';

@ApiTags('Ultravox webhooks')
@Controller('functions/v1/webhook-ingest')
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  /**
   * Where Ultravox sends this agency's call webhooks (the URL from save-ultravox-integration). Checks
   * the URL secret and, when a signing secret was registered, X-Ultravox-Webhook-Signature; stores the
   * event once per (callId, event) and answers 204 at once.
   */
  @Post(':agencyId/:webhookSecret')
  @RedactInLogs('webhookSecret')
  @HttpCode(204)
  @Public()
  @ApiBody({
    schema: {
      type: 'object',
      required: ['event', 'call'],
      properties: { event: { type: 'string' }, call: { type: 'object' } },
    },
  })
  @ApiHeader({
    name: 'X-Ultravox-Webhook-Signature',
    required: false,
    description: 'Required once a signing secret was registered (`register_webhook`)',
  })
  @ApiHeader({ name: 'X-Ultravox-Webhook-Timestamp', required: false, description: 'Signed with the body' })
  @ApiNoContentResponse({ description: 'Stored (or a duplicate, or an event Switchboard does not use)' })
  @ApiErrors({ 400: ['invalid_webhook'], 401: ['invalid_signature'], 404: ['not_found'] })
  async receive(
    @Param('agencyId') agencyId: string,
    @Param('webhookSecret') secret: string,
    @Req() request: RawBodyRequest<FastifyRequest>,
    @RequestHeader('X-Ultravox-Webhook-Signature') signature?: string,
    @RequestHeader('X-Ultravox-Webhook-Timestamp') timestamp?: string,
  ): Promise<void> {
    await this.ingest.ingest({
      agencyId,
      secret,
      rawBody: request.rawBody ?? Buffer.from(JSON.stringify(request.body ?? null)),
      body: request.body,
      signature,
      timestamp,
    });
  }
}
