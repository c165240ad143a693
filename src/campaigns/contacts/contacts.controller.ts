import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { ANY_ROLE, Auth, CurrentAuth, WRITE_ROLES } from '../../auth/auth.decorator';
import type { AuthContext } from '../../auth/auth-context';
import { ApiErrors } from '../../common/errors/api-error-responses.decorator';
import { uuidParam } from '../../common/errors/validation';
import { ContactImportService } from './contact-import.service';
import { CampaignContactsService } from './contacts.service';
import { ContactsImportBody } from './contacts-import-body';
import { csvContactRows } from './csv-contact-rows';
import {
  CampaignContactListResponseDto,
  ContactImportResponseDto,
  ContactQueryDto,
  ImportContactDto,
} from './dto/contact.dto';
import { jsonContactRows } from './json-contact-rows';

const IMPORT_BODY_DESCRIPTION =
  'Either `text/csv` (UTF-8): a header row naming the columns, matched case-insensitively: `phone` ' +
  '(or `phone_number`, E.164) required, `name` and `email` optional, every other column a variable; ' +
  'then one row per contact. Quoted fields, CRLF line ends and a BOM are fine; blank lines are skipped ' +
  'and not counted. Or `application/json`: an array of contact objects whose other string, number ' +
  'and boolean fields are variables. JSON bodies are limited to 16 MB, CSV bodies to 64 MB: CSV is ' +
  'the way for large lists. At most 100,000 rows either way.';

@ApiTags('Campaigns')
@Controller('api/v1/campaigns/:id/contacts')
export class CampaignContactsController {
  constructor(
    private readonly imports: ContactImportService,
    private readonly contacts: CampaignContactsService,
  ) {}

  /**
   * Adds contacts to a draft, running or paused campaign (409 `campaign_closed` otherwise). Every row
   * is checked: a phone that is not E.164 or a bad email rejects the row; a number already seen in this
   * import or already in the campaign is a duplicate; a number on the agency's do-not-call list is
   * skipped. Other columns become the contact's variables: the call's metadata and the prompt's
   * `{{variables}}`. Row numbers count data rows: 1 = the first row after the CSV header (or the first
   * element of a JSON array). All or nothing: a malformed CSV (400 `invalid_csv`, naming the line) or
   * more than 100,000 rows (413 `too_many_rows`) keeps none of the rows.
   */
  @Post()
  @HttpCode(200)
  @ContactsImportBody()
  @Auth({ roles: WRITE_ROLES, apiKey: true })
  @ApiConsumes('application/json', 'text/csv')
  @ApiBody({ type: [ImportContactDto], description: IMPORT_BODY_DESCRIPTION })
  @ApiErrors({
    400: ['invalid_csv'],
    404: ['campaign_not_found'],
    409: ['campaign_closed'],
    413: ['too_many_rows', 'payload_too_large'],
  })
  async import(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
    // `unknown` keeps the ValidationPipe away: a CSV body is the request stream, JSON is checked row by row.
    @Body() body: unknown,
  ): Promise<ContactImportResponseDto> {
    const rows = body instanceof Readable ? csvContactRows(body) : jsonContactRows(body);
    return { success: true, data: await this.imports.import(auth.agencyId, id, rows) };
  }

  /** The campaign's contacts in import order (earlier imports first, then by row), with their calls' progress. */
  @Get()
  @Auth({ roles: ANY_ROLE, apiKey: true })
  @ApiErrors({ 404: ['campaign_not_found'] })
  async list(
    @CurrentAuth() auth: AuthContext,
    @Param('id', uuidParam()) id: string,
    @Query() query: ContactQueryDto,
  ): Promise<CampaignContactListResponseDto> {
    const page = await this.contacts.list(auth.agencyId, id, query);
    return { success: true, data: page.items, next_cursor: page.nextCursor };
  }
}
