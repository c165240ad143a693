import { IsOptional, IsString, MaxLength } from 'class-validator';

/** The query of a signed `recording_url`; a missing or altered part answers 401 invalid_recording_link. */
export class RecordingLinkQueryDto {
  /** When the link stops working, in Unix seconds. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  expires?: string;

  /** HMAC-SHA256 of the call id and `expires`, base64url. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  signature?: string;
}
