import { ApiProperty } from '@nestjs/swagger';
import { ENDPOINT_STATES, EndpointState } from '../../endpoints/dto/webhook-endpoint.dto';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
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
