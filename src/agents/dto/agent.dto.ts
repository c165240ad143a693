import { ApiProperty, OmitType, PartialType } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import { CallingWindowDto, OptionalNested } from '../../common/calling-window/calling-window.dto';
import { OptionalNotNull } from '../../common/dto/optional-not-null';
import { IsE164 } from '../../common/phone';
import { TELEPHONY_PROVIDERS, TelephonyProvider, ULTRAVOX_CHECKS, UltravoxCheck } from '../agent.entity';

export class CreateAgentDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  /** The agent's id at Ultravox; calls are placed with POST /api/agents/{ultravox_agent_id}/calls. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  ultravox_agent_id: string;

  /** Caller id in E.164 (a number of the telephony account configured at Ultravox). */
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsE164()
  phone_number?: string | null;

  @OptionalNotNull()
  @IsIn(TELEPHONY_PROVIDERS)
  telephony_provider?: TelephonyProvider = 'twilio';

  /** Overrides the agency's calling window; null or absent means any time. */
  @OptionalNested(() => CallingWindowDto)
  calling_window?: CallingWindowDto | null;

  /**
   * Ultravox records this agent's calls (`recording_url` in `call.completed` and the calls API);
   * trigger-call and campaigns may override it with `record`.
   */
  @OptionalNotNull()
  @IsBoolean()
  record_calls?: boolean = false;
}

// Fields with a default are redefined without it: a PATCH that leaves them out keeps them.
export class UpdateAgentDto extends PartialType(
  OmitType(CreateAgentDto, ['telephony_provider', 'record_calls'] as const),
  {
    // A null for a field that cannot be null is judged by its validators (400), not skipped.
    skipNullProperties: false,
  },
) {
  @OptionalNotNull()
  @IsIn(TELEPHONY_PROVIDERS)
  telephony_provider?: TelephonyProvider;

  /** Ultravox records this agent's calls; trigger-call and campaigns may override it with `record`. */
  @OptionalNotNull()
  @IsBoolean()
  record_calls?: boolean;
}

export class AgentDto {
  id: string;
  name: string;
  ultravox_agent_id: string;
  phone_number: string | null;
  telephony_provider: TelephonyProvider;
  calling_window: CallingWindowDto | null;
  /**
   * What the last check of `ultravox_agent_id` against Ultravox (GET /api/agents/{id}) found:
   * `verified`; `unverified` (Ultravox unreachable, 5xx or timeout: saved anyway, checked again before
   * each call until confirmed); `key_rejected` (the stored Ultravox key was refused: saved anyway);
   * `not_checked` (the agency has no Ultravox key stored; checked at the first dial).
   */
  @ApiProperty({ enum: ULTRAVOX_CHECKS })
  ultravox_check: UltravoxCheck;
  /** When Ultravox last confirmed the agent (and its context schema was read). */
  ultravox_checked_at: Date | null;
  /**
   * The variables the Ultravox agent's `callTemplate.contextSchema` declares, as last read: only these
   * keys are sent as `templateContext`. Null when it declares none (every key is sent) or it was never read.
   */
  context_variables: string[] | null;
  /** Why the agent could not be checked against Ultravox (set with `unverified` and `key_rejected`), else null. */
  warning: string | null;
  /** Its calls are recorded unless trigger-call or the campaign says otherwise with `record`. */
  record_calls: boolean;
  created_at: Date;
  updated_at: Date;
}

export class AgentResponseDto {
  success: boolean;
  data: AgentDto;
}

export class AgentListResponseDto {
  success: boolean;
  data: AgentDto[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  next_cursor: string | null;
}
