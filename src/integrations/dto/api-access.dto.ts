import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, IsUUID, Max, Min, ValidateIf } from 'class-validator';
import { ENDPOINT_STATES, EndpointState } from '../../webhooks/endpoints/dto/webhook-endpoint.dto';
import { OptionalNotNull } from '../../common/dto/optional-not-null';

export class ApiKeySummaryDto {
  /** The first characters of the key, e.g. `sb_live_AbCd`. */
  prefix: string;
  last4: string;
  created_at: Date;
}

export class ApiAccessDto {
  /** When false, every request made with the agency's API key answers 403. */
  enabled: boolean;
  api_key: ApiKeySummaryDto | null;
  /** Receives signed `call.completed` and `call.failed` events. */
  webhook_url: string | null;
  /** `healthy`, `failing` or `disabled` (see GET /api/v1/webhooks/:id); null without a webhook_url. */
  @ApiProperty({ enum: ENDPOINT_STATES, nullable: true })
  webhook_state: EndpointState | null;
  webhook_failing_since: Date | null;
  webhook_disabled_reason: string | null;
  /** The webhook_url's throttle, attempts per second; null: none. */
  webhook_rate_limit_per_second: number | null;
  default_agent_id: string | null;
}

export class ApiAccessResponseDto {
  success: boolean;
  data: ApiAccessDto;
}

export class NewApiKeyResponseDto {
  success: boolean;
  /** Shown once: store it now. The previous key stopped working when this one was made. */
  api_key: string;
}

export class UpdateApiAccessDto {
  @OptionalNotNull()
  @IsBoolean()
  enabled?: boolean;

  /** https URL (see the URL rules of POST /api/v1/webhooks), or null to remove it. */
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  webhook_url?: string | null;

  /** At most this many attempts per second to webhook_url (1–1000), or null for no throttle. */
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsInt()
  @Min(1)
  @Max(1000)
  webhook_rate_limit_per_second?: number | null;

  /** An agent of this agency, or null. Used by trigger-call when no agent_id is given. */
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsUUID()
  default_agent_id?: string | null;
}
