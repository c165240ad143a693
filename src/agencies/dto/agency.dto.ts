import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { CallingWindowDto, OptionalNested } from '../../common/calling-window/calling-window.dto';
import { OptionalNotNull } from '../../common/dto/optional-not-null';

export class AgencyDto {
  id: string;
  name: string;
  /** Applies to agents without their own window; null means any time. */
  calling_window: CallingWindowDto | null;
  created_at: Date;
}

export class AgencyResponseDto {
  success: boolean;
  data: AgencyDto;
}

export class UpdateAgencyDto {
  @OptionalNotNull()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  /** The agency-wide calling window (an agent's own window overrides it); null removes it. */
  @OptionalNested(() => CallingWindowDto)
  calling_window?: CallingWindowDto | null;
}
