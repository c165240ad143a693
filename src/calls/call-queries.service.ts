import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ApiError } from '../common/errors/api-error';
import { Page } from '../common/pagination';
import { paginate } from '../database/pagination';
import { Call, CallEvent } from './call.entity';
import { CallDto, CallQueryDto, CallWithTimelineDto } from './dto/call.dto';

export function toCallDto(call: Call): CallDto {
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
  };
}

/** Reading calls (CONTRACT §5.6), always within one agency. */
@Injectable()
export class CallQueriesService {
  constructor(
    @InjectRepository(Call) private readonly calls: Repository<Call>,
    @InjectRepository(CallEvent) private readonly events: Repository<CallEvent>,
  ) {}

  async list(agencyId: string, query: CallQueryDto): Promise<Page<CallDto>> {
    const qb = this.calls.createQueryBuilder('call').where('call.agency_id = :agencyId', { agencyId });
    if (query.status) qb.andWhere('call.status = :status', { status: query.status });
    if (query.agent_id) qb.andWhere('call.agent_id = :agentId', { agentId: query.agent_id });
    if (query.campaign_id) qb.andWhere('call.campaign_id = :campaignId', { campaignId: query.campaign_id });
    if (query.phone) qb.andWhere('call.phone_number = :phone', { phone: query.phone });
    const page = await paginate(qb, query);
    return { items: page.items.map(toCallDto), nextCursor: page.nextCursor };
  }

  async get(agencyId: string, id: string): Promise<CallWithTimelineDto> {
    const call = await this.calls.findOneBy({ id, agencyId });
    if (!call) throw ApiError.notFound('call_not_found', `No call ${id} in this agency`);
    // Chronological: ids follow insertion, but concurrent transactions can commit in another order.
    const events = await this.events.find({ where: { callId: id }, order: { createdAt: 'ASC', id: 'ASC' } });
    return {
      ...toCallDto(call),
      timeline: events.map((e) => ({ source: e.source, event: e.event, detail: e.detail, at: e.createdAt })),
    };
  }
}
