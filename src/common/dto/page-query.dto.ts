import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

/** `limit` and `cursor` of every list route (the Swagger plugin documents them from this file). */
export class PageQueryDto {
  /** Page size, 1 to 100. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number = 50;

  /** `next_cursor` of the previous page. */
  @IsOptional()
  @IsString()
  cursor?: string;
}
