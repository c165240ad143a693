import {
  IsBoolean,
  IsEmail,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  ValidateBy,
  ValidationOptions,
} from 'class-validator';
import { IsE164 } from '../../common/phone';

export const MAX_METADATA_BYTES = 16 * 1024;

function IsSmallJsonObject(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSmallJsonObject',
      validator: {
        validate: (value: unknown) =>
          Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8') <= MAX_METADATA_BYTES,
        defaultMessage: () => `metadata must be at most ${MAX_METADATA_BYTES / 1024} KB of JSON`,
      },
    },
    options,
  );
}

export class TriggerCallDto {
  /** The number to call, E.164 exactly (e.g. `+15551234567`: no spaces, dashes or brackets). */
  @IsE164({ formatted: false })
  phone: string;

  /** The callee's name; available to the agent's prompt as `{{name}}`. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @IsOptional()
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(320)
  email?: string;

  /** The agent to call with; defaults to the agency's default agent. */
  @IsOptional()
  @IsUUID('all', { message: 'agent_id must be a UUID' })
  agent_id?: string;

  /** Any JSON object (≤ 16 KB), passed through unchanged to every webhook of this call. */
  @IsOptional()
  @IsObject({ message: 'metadata must be a JSON object' })
  @IsSmallJsonObject()
  metadata?: Record<string, unknown>;

  /** Record this call (true) or not (false), whatever the agent's `record_calls` says. */
  @IsOptional()
  @IsBoolean()
  record?: boolean;
}

export class TriggerCallResponseDto {
  success: boolean;
  call_id: string;
  /** `queued` (dialed now) or `scheduled` (outside the calling window; dialed at scheduled_for). */
  status: 'queued' | 'scheduled';
  scheduled_for?: string;
  /**
   * The variables the agent's Ultravox context schema (`callTemplate.contextSchema`) declares that this
   * call leaves empty (from `phone`, `name`, `email` and the string values of `metadata`), as known at
   * the agent's last check against Ultravox; `[]` when none is empty or the agent declares no schema.
   * The call is placed anyway; only declared keys are sent as `templateContext`.
   */
  missing_variables: string[];
}
