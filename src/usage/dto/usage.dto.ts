import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional } from 'class-validator';

export const USAGE_GROUPS = ['day', 'agent', 'campaign'] as const;
export type UsageGroupBy = (typeof USAGE_GROUPS)[number];
export const USAGE_FORMATS = ['json', 'csv'] as const;

export class UsageQueryDto {
  /** Start of the range, inclusive (ISO 8601 with a zone, e.g. `2026-11-01T00:00:00+01:00`): by the call's `created_at`. */
  @IsISO8601({ strict: true, strictSeparator: true })
  from: string;

  /** End of the range, exclusive; after `from`, at most 366 days later. */
  @IsISO8601({ strict: true, strictSeparator: true })
  to: string;

  /** `day` (in the agency's time zone, see `time_zone`), `agent` or `campaign`. */
  @IsOptional()
  @IsIn(USAGE_GROUPS)
  group_by?: UsageGroupBy = 'day';

  /** `json` (default) or `csv` (`text/csv`, one row per group; README "Usage"). */
  @IsOptional()
  @IsIn(USAGE_FORMATS)
  format?: (typeof USAGE_FORMATS)[number] = 'json';
}

export class UsageFiguresDto {
  /** Calls placed: dialed (or, inbound, received), whatever became of them; queued, scheduled and canceled calls are not. */
  calls_placed: number;
  /** Calls that connected (`completed`). */
  connected: number;
  /** Calls that failed, by `failure_reason` (e.g. `{"no_answer": 3, "busy": 1}`). */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } })
  failed: Record<string, number>;
  /** Talk time of the connected calls (`duration_seconds`). */
  talk_seconds: number;
  /** What Ultravox billed (`billed_duration_seconds`; nothing for calls not billed yet). */
  billed_seconds: number;
}

export class UsageGroupDto extends UsageFiguresDto {
  /** The day (`YYYY-MM-DD` in `time_zone`), the agent's id or the campaign's id; null: calls with no agent (deleted) or not from a campaign. */
  @ApiProperty({ type: String, nullable: true })
  key: string | null;
}

export class UsageReportDto {
  from: Date;
  to: Date;
  @ApiProperty({ enum: USAGE_GROUPS })
  group_by: UsageGroupBy;
  /** The zone days are counted in: the agency's calling window's, else `UTC`. */
  time_zone: string;
  /** Groups with at least one call placed, in key order. */
  groups: UsageGroupDto[];
  totals: UsageFiguresDto;
}

export class UsageResponseDto {
  success: boolean;
  data: UsageReportDto;
}
