import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../../common/dto/page-query.dto';
import { IsE164 } from '../../../common/phone';
import { CONTACT_STATUSES, ContactStatus } from '../../campaign.entity';

/** One element of a JSON import (documentation: the import reads the body row by row itself). */
export class ImportContactDto {
  /** E.164, e.g. `+15551234567` (`phone_number` is accepted too). */
  phone: string;

  /** Available to the agent's prompt as `{{name}}`; at most 200 characters. */
  name?: string;

  email?: string;
}

/** A row of the import that was not stored because of its phone number. */
export class ImportPhoneRowDto {
  /** 1 = the first data row: the first record after the CSV header, the first element of a JSON array. */
  row: number;
  /** E.164. */
  phone: string;
}

export class ImportRejectedRowDto {
  /** 1 = the first data row: the first record after the CSV header, the first element of a JSON array. */
  row: number;
  /** Every problem of the row, e.g. `phone is not an E.164 number; email is not an email address`. */
  reason: string;
}

export class ImportPhoneRowsDto {
  /** Exact, even when `rows` is cut short. */
  count: number;
  /** The first 1,000, in row order. */
  rows: ImportPhoneRowDto[];
  /** True when `rows` lists fewer than `count`. */
  truncated: boolean;
}

export class ImportRejectedRowsDto {
  /** Exact, even when `rows` is cut short. */
  count: number;
  /** The first 1,000, in row order. */
  rows: ImportRejectedRowDto[];
  /** True when `rows` lists fewer than `count`. */
  truncated: boolean;
}

/** A stored contact that leaves variables of the agent's context schema empty. */
export class ImportMissingVariablesRowDto {
  /** 1 = the first data row: the first record after the CSV header, the first element of a JSON array. */
  row: number;
  /** E.164. */
  phone: string;
  /** The declared variables this contact leaves empty (absent or blank), e.g. `["plan"]`. */
  variables: string[];
}

export class ImportMissingVariablesRowsDto {
  /** Exact, even when `rows` is cut short. */
  count: number;
  /** The first 1,000, in row order. */
  rows: ImportMissingVariablesRowDto[];
  /** True when `rows` lists fewer than `count`. */
  truncated: boolean;
}

export class ContactImportReportDto {
  /** Contacts stored by this import. */
  accepted: number;
  /** Numbers that appeared on an earlier row of this import, or that the campaign has already. */
  duplicates: ImportPhoneRowsDto;
  /** Rows that are not a valid contact (bad phone or email, too long, not an object). */
  rejected: ImportRejectedRowsDto;
  /** Numbers on the agency's do-not-call list: not stored. */
  skipped_dnc: ImportPhoneRowsDto;
  /**
   * Stored contacts that leave empty some variable the campaign's agent declares in its Ultravox context
   * schema (`context_variables` of the agent: its own, else the agency's default agent; as known at the
   * agent's last check). They are called anyway; only declared keys are sent. Empty when the agent
   * declares no schema.
   */
  missing_variables: ImportMissingVariablesRowsDto;
}

export class ContactImportResponseDto {
  success: boolean;
  data: ContactImportReportDto;
}

export class CampaignContactDto {
  id: string;
  /** The contact's row in its import: 1 = the first data row. */
  row_number: number;
  /** E.164. */
  phone_number: string;
  name: string | null;
  email: string | null;
  /** The import's other columns, as strings: the call's metadata and the prompt's `{{variables}}`. */
  variables: Record<string, string>;
  /** `pending`, `in_progress`, `completed`, `failed`, `skipped` (do-not-call when its turn came) or `canceled`. */
  status: ContactStatus;
  /** Calls placed to this contact so far. */
  attempts: number;
  /** Outcome of the last call: `completed`, `no_answer`, `busy`, `failed`, `on_dnc` or `canceled`. */
  last_outcome: string | null;
  /** The last call placed to this contact (GET /api/v1/calls/{id}). */
  last_call_id: string | null;
  /** When the contact is next due (a retry waits until then). */
  next_attempt_at: Date;
  created_at: Date;
}

export class CampaignContactListResponseDto {
  success: boolean;
  data: CampaignContactDto[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  next_cursor: string | null;
}

export class ContactQueryDto extends PageQueryDto {
  @IsOptional()
  @IsIn(CONTACT_STATUSES)
  status?: ContactStatus;

  /** Only this number (E.164; URL-encode the plus as `%2B`). */
  @IsOptional()
  @IsE164()
  phone?: string;
}
