import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { IsE164 } from '../../common/phone';
import { CALL_STATUSES, CallStatus } from '../call.entity';

export class CallQueryDto extends PageQueryDto {
  @IsOptional()
  @IsIn(CALL_STATUSES)
  status?: CallStatus;

  @IsOptional()
  @IsUUID()
  agent_id?: string;

  @IsOptional()
  @IsUUID()
  campaign_id?: string;

  /** The callee, E.164. */
  @IsOptional()
  @IsE164()
  phone?: string;
}

export class TranscriptTurnDto {
  role: 'agent' | 'human';
  content: string;
  /** When the turn started (absolute); null for the opening line. */
  timestamp: string | null;
}

export class CallTimelineEntryDto {
  /** `ultravox` (a webhook received) or `switchboard` (a step taken here). */
  source: string;
  event: string;
  detail: string | null;
  at: Date;
}

export class CallDto {
  id: string;
  status: CallStatus;
  /** Why the call failed, e.g. `no_answer`, `busy`, `ultravox_rejected_key`; null otherwise. */
  failure_reason: string | null;
  agent_id: string | null;
  campaign_id: string | null;
  direction: 'outbound' | 'inbound';
  phone_number: string | null;
  name: string | null;
  email: string | null;
  metadata: object | null;
  ultravox_call_id: string | null;
  scheduled_for: Date | null;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  duration_seconds: number | null;
  summary: string | null;
  sentiment: 'positive' | 'neutral' | 'negative' | null;
  transcript: TranscriptTurnDto[] | null;
}

export class CallWithTimelineDto extends CallDto {
  /** Every step of the call, oldest first. */
  timeline: CallTimelineEntryDto[];
}

export class CallResponseDto {
  success: boolean;
  data: CallWithTimelineDto;
}

export class CallListResponseDto {
  success: boolean;
  data: CallDto[];
  next_cursor: string | null;
}
