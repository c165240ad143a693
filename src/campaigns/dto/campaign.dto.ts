import { OmitType, PartialType } from '@nestjs/swagger';
import {
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { CallingWindowDto, OptionalNested } from '../../common/calling-window/calling-window.dto';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { CAMPAIGN_STATUSES, CampaignStatus, RETRYABLE_OUTCOMES, RetryableOutcome } from '../campaign.entity';
import { OptionalNotNull } from '../../common/dto/optional-not-null';

export class RetryPolicyDto {
  /** Attempts per contact in all, the first included (1 = never retry). */
  @IsInt()
  @Min(1)
  @Max(10)
  max_attempts: number;

  /** Outcomes that are retried: `no_answer`, `busy`, `failed` (any other failure). */
  @IsArray()
  @ArrayUnique()
  @IsIn(RETRYABLE_OUTCOMES, { each: true, message: `on must contain only ${RETRYABLE_OUTCOMES.join(', ')}` })
  on: RetryableOutcome[];

  /** Wait before a retry: a duration such as `30s`, `15m`, `2h`. */
  @IsString()
  @Matches(/^\d+(ms|s|m|h)$/, { message: 'delay must be a duration such as 30s, 15m or 2h' })
  delay: string;
}

export class CreateCampaignDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  /** The agent that calls; defaults to the agency's default agent when the campaign starts. */
  @IsOptional()
  @IsUUID()
  agent_id?: string;

  /** Live calls at once for this campaign (never past the agency's own cap). */
  @OptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(100)
  max_concurrency?: number = 5;

  /** Overrides the agent's and the agency's window for this campaign's calls. */
  @OptionalNested(() => CallingWindowDto)
  calling_window?: CallingWindowDto | null;

  /** Without it, each contact is called once. */
  @OptionalNested(() => RetryPolicyDto)
  retry?: RetryPolicyDto;

  /** Record this campaign's calls (true) or not (false); null or absent follows the agent's `record_calls`. */
  @IsOptional()
  @IsBoolean()
  record?: boolean | null;
}

export class UpdateCampaignDto extends PartialType(
  OmitType(CreateCampaignDto, ['max_concurrency'] as const),
  // A null for a field that cannot be null (name) is judged by its validators (400), not skipped.
  { skipNullProperties: false },
) {
  @OptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(100)
  max_concurrency?: number;
}

export class CampaignStatsDto {
  total: number;
  pending: number;
  in_progress: number;
  completed: number;
  failed: number;
  /** On the do-not-call list when their turn came. */
  skipped: number;
  canceled: number;
}

export class CampaignDto {
  id: string;
  name: string;
  agent_id: string | null;
  status: CampaignStatus;
  /**
   * Why Switchboard paused the campaign itself: a setting stored invalid, e.g.
   * `invalid_calling_window: …` with what to fix. Null when not paused, or paused by request.
   */
  paused_reason: string | null;
  max_concurrency: number;
  calling_window: CallingWindowDto | null;
  /** Whether its calls are recorded; null follows the agent's `record_calls`. */
  record: boolean | null;
  retry: RetryPolicyDto;
  stats: CampaignStatsDto;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export class CampaignResponseDto {
  success: boolean;
  data: CampaignDto;
}

export class CampaignListResponseDto {
  success: boolean;
  data: CampaignDto[];
  next_cursor: string | null;
}

export class CampaignQueryDto extends PageQueryDto {
  @IsOptional()
  @IsIn(CAMPAIGN_STATUSES)
  status?: CampaignStatus;
}
