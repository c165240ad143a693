import { Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ANY_ROLE, Auth, CurrentAuth } from '../auth/auth.decorator';
import type { AuthContext } from '../auth/auth-context';
import { ApiErrors } from '../common/errors/api-error-responses.decorator';
import { uuidParam, validationFailed } from '../common/errors/validation';
import { RequestHeader } from '../common/http/request-header.decorator';
import { CallQueriesService } from './call-queries.service';
import { CallsService } from './calls.service';
import { CallListResponseDto, CallQueryDto, CallResponseDto } from './dto/call.dto';
import { TriggerCallBody } from './dto/trigger-call-body';
import { TriggerCallDto, TriggerCallResponseDto } from './dto/trigger-call.dto';
import { IdempotencyService } from './idempotency.service';

const MAX_IDEMPOTENCY_KEY = 255;

@ApiTags('Calls')
@Controller()
export class CallsController {
  constructor(
    private readonly calls: CallsService,
    private readonly queries: CallQueriesService,
    private readonly idempotency: IdempotencyService,
  ) {}

  /**
   * Places an outbound AI call. Inside the calling window it is `queued` and dialed at once; outside,
   * `scheduled` and dialed when the window opens. With `Idempotency-Key`, a repeat within 24 h returns
   * the first answer (header `Idempotent-Replayed: true`) and places no second call.
   */
  @Post('api/trigger-call')
  @HttpCode(200)
  @Auth({ apiKey: true })
  @ApiBody({ type: TriggerCallDto })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Up to 255 characters; kept 24 h' })
  @ApiErrors({
    400: ['no_agent'],
    404: ['agent_not_found'],
    409: ['idempotency_key_in_progress'],
    422: [
      'agent_has_no_phone_number',
      'ultravox_not_configured',
      'number_on_dnc',
      'idempotency_key_reused',
      'invalid_calling_window',
    ],
  })
  async trigger(
    @CurrentAuth() auth: AuthContext,
    @TriggerCallBody() dto: TriggerCallDto,
    @Res({ passthrough: true }) reply: FastifyReply,
    @RequestHeader('Idempotency-Key') idempotencyKey?: string,
  ): Promise<TriggerCallResponseDto> {
    if (idempotencyKey === undefined) return this.calls.trigger(auth.agencyId, dto);
    if (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY) {
      throw validationFailed([
        {
          field: 'Idempotency-Key',
          message: `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY} characters`,
        },
      ]);
    }
    const result = await this.idempotency.run(auth.agencyId, idempotencyKey, dto, () =>
      this.calls.trigger(auth.agencyId, dto),
    );
    if (result.replayed) void reply.header('Idempotent-Replayed', 'true');
    return result.body;
  }

  /** The agency's calls, newest first; filter by status, agent, campaign or phone. */
  @Get('api/v1/calls')
  @Auth({ roles: ANY_ROLE, apiKey: true })
  async list(@CurrentAuth() auth: AuthContext, @Query() query: CallQueryDto): Promise<CallListResponseDto> {
    const page = await this.queries.list(auth.agencyId, query);
    return { success: true, data: page.items, next_cursor: page.nextCursor };
  }

  /** One call with its transcript, summary, sentiment and the timeline of what happened. */
  @Get('api/v1/calls/:id')
  @Auth({ roles: ANY_ROLE, apiKey: true })
  @ApiErrors({ 404: ['call_not_found'] })
  async get(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
  ): Promise<CallResponseDto> {
    return { success: true, data: await this.queries.get(auth.agencyId, id) };
  }
}
