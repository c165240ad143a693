import { HttpStatus } from '@nestjs/common';
import { isEmail } from 'class-validator';
import { MAX_METADATA_BYTES } from '../../calls/dto/trigger-call.dto';
import { ApiError } from '../../common/errors/api-error';
import { toE164 } from '../../common/phone';

/** Data rows per import, CSV or JSON. One more is 413 `too_many_rows`, and nothing of that import is kept. */
export const MAX_IMPORT_ROWS = 100_000;

/** The limits of trigger-call: a contact becomes a call. */
const MAX_NAME_LENGTH = 200;
const MAX_EMAIL_LENGTH = 320;

export type ContactRole = 'phone' | 'name' | 'email';

/** Column names (CSV header or JSON key, compared case-insensitively) with a role; any other is a variable. */
const ROLES = new Map<string, ContactRole>([
  ['phone', 'phone'],
  ['phone_number', 'phone'],
  ['name', 'name'],
  ['email', 'email'],
]);

export function columnRole(column: string): ContactRole | null {
  return ROLES.get(column.trim().toLowerCase()) ?? null;
}

/** One row of an import as read: phone, name and email by role, every other non-empty value by its name. */
export interface RawRow {
  /** 1 = the first data row: the first record after the CSV header, the first element of a JSON array. */
  row: number;
  phone?: string;
  name?: string;
  email?: string;
  variables: Record<string, string>;
}

export interface RejectedRow {
  row: number;
  reason: string;
}

export interface ContactInput {
  row: number;
  /** E.164. */
  phone: string;
  name: string | null;
  email: string | null;
  variables: Record<string, string>;
}

export function isRejected(row: RawRow | RejectedRow | ContactInput): row is RejectedRow {
  return 'reason' in row;
}

/** A contact ready to store, or why the row is rejected (every problem of the row, `; `-separated). */
export function validateRow(raw: RawRow): ContactInput | RejectedRow {
  const problems: string[] = [];
  const phone = raw.phone ? toE164(raw.phone) : null;
  if (!raw.phone) problems.push('phone is missing');
  else if (!phone) problems.push('phone is not an E.164 number');
  const name = raw.name || null;
  if (name && name.length > MAX_NAME_LENGTH) {
    problems.push(`name is longer than ${MAX_NAME_LENGTH} characters`);
  }
  const email = raw.email || null;
  if (email && (email.length > MAX_EMAIL_LENGTH || !isEmail(email))) {
    problems.push('email is not an email address');
  }
  if (Buffer.byteLength(JSON.stringify(raw.variables), 'utf8') > MAX_METADATA_BYTES) {
    problems.push(`the other columns hold more than ${MAX_METADATA_BYTES / 1024} KB`);
  }
  if (problems.length > 0 || !phone) return { row: raw.row, reason: problems.join('; ') };
  return { row: raw.row, phone, name, email, variables: raw.variables };
}

export function tooManyRows(): ApiError {
  return new ApiError(
    HttpStatus.PAYLOAD_TOO_LARGE,
    'too_many_rows',
    `An import takes at most ${MAX_IMPORT_ROWS.toLocaleString('en-US')} rows; nothing was imported`,
    { hint: 'Split the list into several imports' },
  );
}
