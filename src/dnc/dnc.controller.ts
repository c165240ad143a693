import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import { ANY_ROLE, Auth, CurrentAuth, WRITE_ROLES } from '../auth/auth.decorator';
import type { AuthContext } from '../auth/auth-context';
import { ApiErrors } from '../common/errors/api-error-responses.decorator';
import { SuccessResponseDto } from '../common/dto/success-response.dto';
import { DncNumbersPipe, E164ParamPipe } from './dnc.pipes';
import { DncService } from './dnc.service';
import { AddDncNumbersDto, AddDncNumbersResponseDto, DncListResponseDto, DncQueryDto } from './dto/dnc.dto';

@ApiTags('Do-not-call list')
@Controller('api/v1/dnc')
export class DncController {
  constructor(private readonly dnc: DncService) {}

  /** The agency's do-not-call list, newest first; `phone` checks one number. */
  @Get()
  @Auth({ roles: ANY_ROLE, apiKey: true })
  async list(@CurrentAuth() auth: AuthContext, @Query() query: DncQueryDto): Promise<DncListResponseDto> {
    const page = await this.dnc.list(auth.agencyId, query);
    return { success: true, data: page.items, next_cursor: page.nextCursor };
  }

  /**
   * Lists up to 10,000 numbers at once; trigger-call and campaigns refuse to call them. Adding a
   * number that is already listed is not an error: it is counted in `already_listed`.
   */
  @Post()
  @HttpCode(200)
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  async add(
    @CurrentAuth() auth: AuthContext,
    @Body(DncNumbersPipe) dto: AddDncNumbersDto,
  ): Promise<AddDncNumbersResponseDto> {
    const result = await this.dnc.add(auth.agencyId, dto.numbers, dto.reason ?? null);
    return { success: true, added: result.added, already_listed: result.alreadyListed };
  }

  /** Removes a number from the list, so it may be called again. */
  @Delete(':phone')
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiParam({ name: 'phone', description: 'E.164, URL-encoded: `%2B15551234567`' })
  @ApiErrors({ 404: ['dnc_number_not_found'] })
  async remove(
    @CurrentAuth() auth: AuthContext,
    @Param('phone', E164ParamPipe) phone: string,
  ): Promise<SuccessResponseDto> {
    await this.dnc.remove(auth.agencyId, phone);
    return { success: true };
  }
}
