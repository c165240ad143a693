import { ApiProperty } from '@nestjs/swagger';
import { ENDPOINT_STATES, EndpointState } from '../../endpoints/dto/webhook-endpoint.dto';
import { IsIn, IsISO8601, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../../common/dto/page-query.dto';
import type { DeliveryStatus } from '../webhook-delivery.entity';

export class DeliveryAttemptDto {
  /** 1 for the first try. */
  attempt: number;
  at: Date;
  /** Null when no HTTP answer came (timeout, refused connection, blocked address). */
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  /** At most 1 KB of the receiver's answer. */
  response_excerpt: string | null;
}

export class DeliveryDto {
  id: string;
  webhook_id: string;
  /** The endpoint's health now: `healthy`, `failing` (paused, deliveries waiting) or `disabled`. */
  @ApiProperty({ enum: ENDPOINT_STATES })
  endpoint_state: EndpointState;
  event_id: string;
  event: string;
  status: DeliveryStatus;
  attempt_count: number;
  /** When the next automatic attempt is due; null once settled. */
  next_attempt_at: Date | null;
  /** When it was marked failed (what `recover` ranges over); null unless its status is `failed`. */
  failed_at: Date | null;
  created_at: Date;
  attempts: DeliveryAttemptDto[];
}

export class DeliveryListResponseDto {
  success: boolean;
  data: DeliveryDto[];
  next_cursor: string | null;
}

export class DeliveryResponseDto {
  success: boolean;
  data: DeliveryDto;
}

export class DeliveryQueryDto extends PageQueryDto {
  @IsOptional()
  @IsIn(['pending', 'succeeded', 'failed'])
  status?: DeliveryStatus;

  /** Event type, e.g. `call.completed`. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  event?: string;
}

/** An RFC 3339 date-time with its time zone (IsISO8601 strict judges the calendar: no 31 April). */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const INSTANT_SHAPE = '$property must be a date-time with a time zone, e.g. 2026-12-01T00:00:00Z';

/**
 * Which failed deliveries to send again: those marked failed (`failed_at` in the delivery log) from
 * `since` to `until`, both included.
 */
export class RecoverDeliveriesDto {
  /** Start of the range; at most 14 days ago. */
  @ApiProperty({ format: 'date-time', example: '2026-12-01T08:00:00Z' })
  @IsISO8601({ strict: true, strictSeparator: true })
  @Matches(INSTANT, { message: INSTANT_SHAPE })
  since: string;

  /** End of the range, not before `since`; absent, null or later than now: now. */
  @ApiProperty({ format: 'date-time', example: '2026-12-01T12:00:00Z', required: false, nullable: true })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  @Matches(INSTANT, { message: INSTANT_SHAPE })
  until?: string | null;
}

export class RecoverDeliveriesResponseDto {
  success: boolean;
  /** How many failed deliveries were queued to be sent again. */
  queued: number;
}
