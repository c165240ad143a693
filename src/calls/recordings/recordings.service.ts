import type { Readable } from 'node:stream';
import { HttpStatus, Injectable } from '@nestjs/common';
import { AgencySecrets } from '../../agencies/agency-secrets';
import { ApiError } from '../../common/errors/api-error';
import { UltravoxClient } from '../../ultravox/ultravox.client';
import { UltravoxError } from '../../ultravox/ultravox.errors';
import type { Call } from '../call.entity';
import { CallsRepository } from '../calls.repository';
import { hasRecording, RecordingLinks } from './recording-links';

/** One range of bytes: `bytes=0-99`, `bytes=100-`, `bytes=-100` (the last 100). */
const SINGLE_RANGE = /^bytes=(\d{1,15}-\d{0,15}|-\d{1,15})$/;
const CONTENT_RANGE = /^bytes (\d+-\d+|\*)\/(\d+|\*)$/;

/** What the route sends: status, the headers we choose to show, and the audio, unread. */
export interface RecordingStream {
  status: 200 | 206;
  headers: Record<string, string>;
  body: Readable;
}

/**
 * Serves call recordings (CONTRACT §5.6) from Ultravox without showing its key or URL: the audio is
 * streamed through (never held whole in memory), with only the headers we choose. A range asked for
 * is passed through to the origin; several ranges at once are not supported and get the whole file.
 */
@Injectable()
export class RecordingsService {
  constructor(
    private readonly calls: CallsRepository,
    private readonly secrets: AgencySecrets,
    private readonly ultravox: UltravoxClient,
    private readonly links: RecordingLinks,
  ) {}

  /** `GET /api/v1/calls/:id/recording`: the agency's call only. */
  async forAgency(
    agencyId: string,
    callId: string,
    range: string | undefined,
    signal: AbortSignal,
  ): Promise<RecordingStream> {
    const call = await this.calls.findInAgency(agencyId, callId);
    if (!call) throw ApiError.notFound('call_not_found', `No call ${callId} in this agency`);
    return this.open(call, range, signal);
  }

  /** `GET /api/v1/recordings/:callId?expires=&signature=`: whoever holds a valid, unexpired link. */
  async byLink(
    callId: string,
    link: { expires?: string; signature?: string },
    range: string | undefined,
    signal: AbortSignal,
  ): Promise<RecordingStream> {
    const verdict = this.links.verify(callId, link.expires, link.signature);
    if (verdict === 'invalid') {
      throw new ApiError(
        HttpStatus.UNAUTHORIZED,
        'invalid_recording_link',
        'This recording link is not valid (altered or incomplete)',
        { hint: 'Use recording_url exactly as Switchboard handed it out' },
      );
    }
    if (verdict === 'expired') {
      const at = new Date(Number(link.expires) * 1000).toISOString();
      throw ApiError.forbidden('recording_link_expired', `This recording link expired at ${at}`);
    }
    const call = await this.calls.findOne(callId);
    if (!call) throw this.noRecording(callId);
    return this.open(call, range, signal);
  }

  private async open(call: Call, range: string | undefined, signal: AbortSignal): Promise<RecordingStream> {
    if (!hasRecording(call) || !call.ultravoxCallId) throw this.noRecording(call.id);
    const apiKey = await this.secrets.ultravoxApiKey(call.agencyId);
    if (!apiKey) {
      throw ApiError.unprocessable(
        'ultravox_not_configured',
        'This agency has not saved an Ultravox API key',
        {
          hint: 'The recording is kept by Ultravox: save the key again to reach it',
        },
      );
    }
    const asked = range !== undefined && SINGLE_RANGE.test(range.trim()) ? range.trim() : null;
    let answer;
    try {
      answer = await this.ultravox.openRecording(apiKey, call.ultravoxCallId, asked, signal);
    } catch (err) {
      if (!(err instanceof UltravoxError)) throw err;
      if (err.failure === 'not_found') throw this.noRecording(call.id);
      throw new ApiError(
        HttpStatus.BAD_GATEWAY,
        'ultravox_unavailable',
        `Could not fetch the recording: ${err.message}`,
      );
    }
    if (answer.kind === 'unsatisfiable') {
      const contentRange =
        answer.contentRange && CONTENT_RANGE.test(answer.contentRange) ? answer.contentRange : null;
      throw new ApiError(
        HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
        'range_not_satisfiable',
        'The range asked for is outside the recording',
        contentRange ? { headers: { 'Content-Range': contentRange } } : {},
      );
    }
    const headers: Record<string, string> = {
      'Content-Type': answer.contentType?.startsWith('audio/') ? answer.contentType : 'audio/wav',
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'private, no-store',
      'Content-Disposition': `inline; filename="call-${call.id}.wav"`,
    };
    if (answer.contentLength !== null) headers['Content-Length'] = String(answer.contentLength);
    if (answer.status === 206) {
      if (!answer.contentRange || !CONTENT_RANGE.test(answer.contentRange)) {
        answer.body.destroy();
        throw new ApiError(
          HttpStatus.BAD_GATEWAY,
          'ultravox_unavailable',
          'Ultravox answered a range without Content-Range',
        );
      }
      headers['Content-Range'] = answer.contentRange;
    }
    return { status: answer.status, headers, body: answer.body };
  }

  private noRecording(callId: string): ApiError {
    return ApiError.notFound(
      'recording_not_found',
      `Call ${callId} has no recording (it was not recorded, did not connect, or Ultravox has none)`,
    );
  }
}
