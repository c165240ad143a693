import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsUUID } from 'class-validator';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { IsE164 } from '../../common/phone';
import { BILLING_STATUSES, BillingStatus } from '../billing';
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

  /** Calls with this billing (e.g. `pending` for those Ultravox has not billed yet). */
  @IsOptional()
  @IsIn(BILLING_STATUSES)
  billing_status?: BillingStatus;

  /** Calls created at or after this instant (ISO 8601 with a zone, e.g. `2026-11-01T00:00:00+01:00`). */
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  from?: string;

  /** Calls created before this instant (exclusive); after `from` when both are given. */
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  to?: string;
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
  /**
   * Ultravox's billing of the call, lowercased without its `BILLING_STATUS_` prefix: `pending` (ended,
   * not billed yet), `billed`, or a reason Ultravox did not charge it (`free_console`,
   * `free_zero_effective_duration`, `free_minutes`, `free_system_error`, `free_other`, `refunded`;
   * `unspecified` for a value Switchboard does not know); `unavailable` when Ultravox had not billed it
   * 12 h after its end. Null until the call ends at Ultravox (or when it never reached Ultravox).
   */
  @ApiProperty({ enum: BILLING_STATUSES, nullable: true })
  billing_status: BillingStatus | null;
  /** Seconds Ultravox charged (its `billedDuration`); 0 when it did not charge the call; null until billed. */
  billed_duration_seconds: number | null;
  /**
   * A Switchboard link to the call's recording that needs no other credential, valid for
   * RECORDING_LINK_TTL (a fresh one on every read); null when the call was not recorded or did not
   * connect. With an API key or JWT, `GET /api/v1/calls/{id}/recording` serves the same audio.
   */
  recording_url: string | null;
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
