import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { IsE164 } from '../../common/phone';

export const MAX_NUMBERS_PER_REQUEST = 10_000;

export class DncQueryDto extends PageQueryDto {
  /** Only this number (E.164, URL-encode the plus as `%2B`): an empty list means it is not listed. */
  @IsOptional()
  @IsE164()
  phone?: string;
}

export class AddDncNumbersDto {
  /**
   * 1 to 10,000 numbers in E.164 (`+15551234567`); formatted international numbers such as
   * `+1 (555) 123-4567` are accepted and stored as E.164. Each element is checked on its own, so an
   * error names it (`numbers[3]`).
   */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_NUMBERS_PER_REQUEST)
  numbers: string[];

  /** Why the numbers are listed (e.g. "asked not to be called"); kept with each newly listed number. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  reason?: string | null;
}

export class AddDncNumbersResponseDto {
  success: boolean;
  /** Distinct numbers of the request that were not listed before and now are. */
  added: number;
  /** Distinct numbers of the request that were listed already (their reason is kept). */
  already_listed: number;
}

export class DncNumberDto {
  /** E.164. */
  phone_number: string;
  reason: string | null;
  created_at: Date;
}

export class DncListResponseDto {
  success: boolean;
  data: DncNumberDto[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  next_cursor: string | null;
}
