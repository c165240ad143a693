import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiProduces, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ANY_ROLE, Auth, CurrentAuth } from '../auth/auth.decorator';
import type { AuthContext } from '../auth/auth-context';
import { UsageQueryDto, UsageResponseDto } from './dto/usage.dto';
import { usageCsv } from './usage-csv';
import { UsageService } from './usage.service';

@ApiTags('Usage')
@ApiExtraModels(UsageResponseDto)
@Controller()
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  /**
   * Calls placed, connected, failed by reason, talk and billed seconds per day (in the agency's time
   * zone), agent or campaign, for calls created in [from, to). `format=csv` answers the same as
   * `text/csv` for spreadsheets.
   */
  @Get('api/v1/usage')
  @Auth({ roles: ANY_ROLE, apiKey: true })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({
    description: 'The report (JSON), or with `format=csv` the same as CSV',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(UsageResponseDto) } },
      'text/csv': { schema: { type: 'string' } },
    },
  })
  async report(
    @CurrentAuth() auth: AuthContext,
    @Query() query: UsageQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UsageResponseDto | string> {
    const report = await this.usage.report(auth.agencyId, query);
    if (query.format !== 'csv') return { success: true, data: report };
    void reply
      .type('text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="usage-by-${report.group_by}.csv"`);
    return usageCsv(report);
  }
}
