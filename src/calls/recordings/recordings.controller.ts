import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ANY_ROLE, Auth, CurrentAuth, Public } from '../../auth/auth.decorator';
import type { AuthContext } from '../../auth/auth-context';
import { ApiErrors } from '../../common/errors/api-error-responses.decorator';
import { uuidParam } from '../../common/errors/validation';
import { RequestHeader } from '../../common/http/request-header.decorator';
import { RedactInLogs } from '../../common/logging';
import { RecordingLinkQueryDto } from './recording-link-query.dto';
import { RecordingsService, RecordingStream } from './recordings.service';

const AUDIO = { 'audio/wav': { schema: { type: 'string', format: 'binary' } } };

/** The audio responses and the Range header, documented once for both routes. */
function RecordingResponses(): MethodDecorator {
  return (target, key, descriptor) => {
    ApiHeader({
      name: 'Range',
      required: false,
      description:
        'One byte range, e.g. `bytes=0-1023`, `bytes=1024-` or `bytes=-1024` (206 with Content-Range)',
    })(target, key, descriptor);
    ApiResponse({ status: 200, description: 'The whole recording', content: AUDIO })(target, key, descriptor);
    ApiResponse({
      status: 206,
      description: 'The range asked for, with Content-Range',
      content: AUDIO,
    })(target, key, descriptor);
  };
}

@ApiTags('Calls')
@Controller()
export class RecordingsController {
  constructor(private readonly recordings: RecordingsService) {}

  /**
   * The call's recording (audio/wav), streamed from Ultravox; HTTP ranges supported. 404
   * `recording_not_found` when the call was not recorded, did not connect, or Ultravox has none.
   */
  @Get('api/v1/calls/:id/recording')
  @Auth({ roles: ANY_ROLE, apiKey: true })
  @RecordingResponses()
  @ApiErrors({
    404: ['call_not_found', 'recording_not_found'],
    416: ['range_not_satisfiable'],
    422: ['ultravox_not_configured'],
    502: ['ultravox_unavailable'],
  })
  async recording(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @RequestHeader('Range') range?: string,
  ): Promise<void> {
    const signal = abortedWith(request, reply);
    send(reply, await this.recordings.forAgency(auth.agencyId, id, range, signal));
  }

  /**
   * A `recording_url`: the same audio as `GET /api/v1/calls/{id}/recording` for whoever holds the
   * link, until it expires (RECORDING_LINK_TTL). 401 when the link was altered, 403 once expired.
   */
  @Get('api/v1/recordings/:callId')
  @Public()
  @RedactInLogs('signature')
  @RecordingResponses()
  @ApiErrors({
    401: ['invalid_recording_link'],
    403: ['recording_link_expired'],
    404: ['recording_not_found'],
    416: ['range_not_satisfiable'],
    422: ['ultravox_not_configured'],
    502: ['ultravox_unavailable'],
  })
  async signed(
    @Param('callId', uuidParam('callId')) callId: string,
    @Query() link: RecordingLinkQueryDto,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @RequestHeader('Range') range?: string,
  ): Promise<void> {
    const signal = abortedWith(request, reply);
    send(reply, await this.recordings.byLink(callId, link, range, signal));
  }
}

/** Aborted when the client goes away before the answer is complete: the upstream request stops too. */
function abortedWith(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  request.raw.once('aborted', () => controller.abort());
  return controller.signal;
}

function send(reply: FastifyReply, recording: RecordingStream): void {
  void reply.code(recording.status).headers(recording.headers).send(recording.body);
}
