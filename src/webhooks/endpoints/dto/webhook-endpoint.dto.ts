import { ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsString, MaxLength } from 'class-validator';
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
}

export class WebhookDto {
  webhookId: string;
  url: string;
  events: string[];
  active: boolean;
  /** Why Switchboard switched the endpoint off, e.g. after a 410 Gone; null otherwise. */
  disabled_reason: string | null;
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
