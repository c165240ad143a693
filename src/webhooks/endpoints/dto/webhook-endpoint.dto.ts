import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { SUBSCRIBABLE_EVENTS, SubscribableEvent } from '../../webhook-event-types';
import { OptionalNotNull } from '../../../common/dto/optional-not-null';

const EVENTS_MESSAGE = `events must contain only ${SUBSCRIBABLE_EVENTS.join(', ')}`;

export class CreateWebhookDto {
  /** https URL of the receiver (http and private addresses only with WEBHOOK_ALLOW_PRIVATE_URLS=true). */
  @IsString()
  @MaxLength(2000)
  url: string;

  /** Event types to receive. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(SUBSCRIBABLE_EVENTS, { each: true, message: EVENTS_MESSAGE })
  events: SubscribableEvent[];

  @OptionalNotNull()
  @IsBoolean()
  active?: boolean = true;
  /** At most this many attempts per second (1–1000) for a receiver that cannot take a burst; none by default. */
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsInt()
  @Min(1)
  @Max(1000)
  rate_limit_per_second?: number | null;
}

export class UpdateWebhookDto {
  @OptionalNotNull()
  @IsString()
  @MaxLength(2000)
  url?: string;

  @OptionalNotNull()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(SUBSCRIBABLE_EVENTS, { each: true, message: EVENTS_MESSAGE })
  events?: SubscribableEvent[];

  /** true re-enables an endpoint, including one switched off after a 410 Gone. */
  @OptionalNotNull()
  @IsBoolean()
  active?: boolean;

  /** At most this many attempts per second (1–1000), or null to remove the throttle. */
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsInt()
  @Min(1)
  @Max(1000)
  rate_limit_per_second?: number | null;
}

export const ENDPOINT_STATES = ['healthy', 'failing', 'disabled'] as const;
export type EndpointState = (typeof ENDPOINT_STATES)[number];

export function endpointState(endpoint: { active: boolean; failingSince: Date | null }): EndpointState {
  if (!endpoint.active) return 'disabled';
  return endpoint.failingSince ? 'failing' : 'healthy';
}

export class WebhookDto {
  webhookId: string;
  url: string;
  events: string[];
  active: boolean;
  /**
   * `healthy`; `failing` (found unreachable — timeouts, connection errors, 5xx — and paused: its
   * deliveries wait, one probe at a time, without using up their retries); `disabled` (switched off by
   * hand, after a 410 Gone, or after failing for WEBHOOK_DISABLE_AFTER; PATCH `active: true` resumes it).
   */
  @ApiProperty({ enum: ENDPOINT_STATES })
  state: EndpointState;
  /** Since when it has been failing; null unless failing (or disabled for it). */
  failing_since: Date | null;
  /** Why Switchboard switched the endpoint off, e.g. after a 410 Gone; null otherwise. */
  disabled_reason: string | null;
  /** The endpoint's throttle, attempts per second; null: none. */
  rate_limit_per_second: number | null;
  created_at: Date;
}

export class WebhookWithSecretDto extends WebhookDto {
  /** `whsec_…`: shown only here and at rotation. Verify `webhook-signature` with it (Standard Webhooks). */
  secret: string;
}

export class WebhookResponseDto {
  success: boolean;
  data: WebhookDto;
}

export class WebhookWithSecretResponseDto {
  success: boolean;
  data: WebhookWithSecretDto;
}

export class WebhookListResponseDto {
  success: boolean;
  data: WebhookDto[];
  next_cursor: string | null;
}

export class WebhookTestResponseDto {
  success: boolean;
  /** The delivery created for the test event; follow it in the delivery log. */
  delivery_id: string;
  event_id: string;
}
