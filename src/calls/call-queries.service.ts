import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { validationFailed } from '../common/errors/validation';
import { Page } from '../common/pagination';
import { Call } from './call.entity';
import { CallsRepository } from './calls.repository';
import { CallDto, CallQueryDto, CallWithTimelineDto } from './dto/call.dto';
import { RecordingLinks } from './recordings/recording-links';

export function toCallDto(call: Call, recordingUrl: string | null): CallDto {
  return {
    id: call.id,
    status: call.status,
    failure_reason: call.failureReason,
    agent_id: call.agentId,
    campaign_id: call.campaignId,
    direction: call.direction,
    phone_number: call.phoneNumber,
    name: call.name,
    email: call.email,
    metadata: call.metadata,
    ultravox_call_id: call.ultravoxCallId,
    scheduled_for: call.scheduledFor,
    created_at: call.createdAt,
    started_at: call.startedAt,
    ended_at: call.endedAt,
    duration_seconds: call.durationSeconds,
    summary: call.summary,
    sentiment: call.sentiment,
    transcript: call.transcript,
    billing_status: call.billingStatus,
    billed_duration_seconds: call.billedDurationSeconds,
    recording_url: recordingUrl,
  };
}

/** Reading calls (CONTRACT §5.6), always within one agency. */
@Injectable()
export class CallQueriesService {
  constructor(
    private readonly calls: CallsRepository,
    private readonly recordingLinks: RecordingLinks,
  ) {}

  async list(agencyId: string, query: CallQueryDto): Promise<Page<CallDto>> {
    const from = query.from ? new Date(query.from) : undefined;
    const to = query.to ? new Date(query.to) : undefined;
    if (from && to && !(from < to)) {
      throw validationFailed([{ field: 'to', message: 'to must be after from' }]);
    }
    const filter = {
      status: query.status,
      agentId: query.agent_id,
      campaignId: query.campaign_id,
      phone: query.phone,
      billingStatus: query.billing_status,
      createdFrom: from,
      createdBefore: to,
    };
    const page = await this.calls.page(agencyId, filter, query);
    return { items: page.items.map((call) => this.toDto(call)), nextCursor: page.nextCursor };
  }

  async get(agencyId: string, id: string): Promise<CallWithTimelineDto> {
    const call = await this.calls.findInAgency(agencyId, id);
    if (!call) throw ApiError.notFound('call_not_found', `No call ${id} in this agency`);
    const events = await this.calls.timeline(id);
    return {
      ...this.toDto(call),
      timeline: events.map((e) => ({ source: e.source, event: e.event, detail: e.detail, at: e.createdAt })),
    };
  }

  /** Each read hands out a fresh link, valid for RECORDING_LINK_TTL from now. */
  private toDto(call: Call): CallDto {
    return toCallDto(call, this.recordingLinks.urlFor(call));
  }
}
