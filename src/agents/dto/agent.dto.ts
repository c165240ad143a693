import { OmitType, PartialType } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import { CallingWindowDto, OptionalNested } from '../../common/calling-window/calling-window.dto';
import { OptionalNotNull } from '../../common/dto/optional-not-null';
import { IsE164 } from '../../common/phone';
import { TELEPHONY_PROVIDERS, TelephonyProvider } from '../agent.entity';

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
}

export class UpdateAgentDto extends PartialType(OmitType(CreateAgentDto, ['telephony_provider'] as const), {
  // A null for a field that cannot be null is judged by its validators (400), not skipped.
  skipNullProperties: false,
}) {
  @OptionalNotNull()
  @IsIn(TELEPHONY_PROVIDERS)
  telephony_provider?: TelephonyProvider;
}

export class AgentDto {
  id: string;
  name: string;
  ultravox_agent_id: string;
  phone_number: string | null;
  telephony_provider: TelephonyProvider;
  calling_window: CallingWindowDto | null;
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
