import { UltravoxWebhookHealthDto } from './ultravox-webhook-health.dto';
import { IsBoolean, IsNotEmpty, IsOptional, IsString } from 'class-validator';

export class SaveUltravoxIntegrationDto {
  /** The agency's Ultravox API key. Stored encrypted; never shown again. */
  @IsString()
  @IsNotEmpty({ message: 'api_key is required' })
  api_key: string;

  /** Store the key without asking Ultravox first (e.g. accounts with no credits). */
  @IsOptional()
  @IsBoolean()
  skip_validation?: boolean = false;

  /** Register (or update) an Ultravox webhook pointing at this agency's ingest URL, with a signing secret. */
  @IsOptional()
  @IsBoolean()
  register_webhook?: boolean = false;
}

export class SaveUltravoxIntegrationResponseDto {
  success: boolean;
  /** `<PUBLIC_BASE_URL>/functions/v1/webhook-ingest/<agency_id>/<webhook_secret>` */
  webhook_url: string;
}

export class UltravoxIntegrationDto {
  /** Whether an Ultravox API key is stored. */
  configured: boolean;
  added_at: Date | null;
  /** Null when the key was stored with skip_validation. */
  validated_at: Date | null;
  /** Where Ultravox must send this agency's call webhooks. */
  webhook_url: string;
  /** Whether ingest requires a valid X-Ultravox-Webhook-Signature (set by register_webhook). */
  signature_verification: boolean;
  /** The registered Ultravox webhook's health; null when none was registered (`register_webhook`). */
  ultravox_webhook: UltravoxWebhookHealthDto | null;
  /**
   * The Ultravox account's `allowedConcurrentCalls` (GET /api/accounts/me), read at save and every
   * ULTRAVOX_WEBHOOK_CHECK_INTERVAL; null while Ultravox has not reported one.
   */
  allowed_concurrent_calls: number | null;
  /** The agency's live-call cap: the smaller of `allowed_concurrent_calls` and MAX_CONCURRENT_CALLS_PER_AGENCY. */
  effective_concurrent_calls: number;
  /** When `allowed_concurrent_calls` was read from Ultravox. */
  account_checked_at: Date | null;
  /**
   * When Ultravox rejected the stored key during the workers' check: checks stop (and calls will fail)
   * until a key is saved again. null otherwise.
   */
  key_rejected_at: Date | null;
}

export class UltravoxIntegrationResponseDto {
  success: boolean;
  data: UltravoxIntegrationDto;
}

export class WebhookUrlResponseDto {
  success: boolean;
  webhook_url: string;
}
