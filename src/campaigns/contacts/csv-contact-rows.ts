import { HttpStatus } from '@nestjs/common';
import { CsvError, parse } from 'csv-parse';
import type { Readable } from 'node:stream';
import { ApiError } from '../../common/errors/api-error';
import { isUnstorableText, UNSTORABLE_TEXT_MESSAGE } from '../../common/http/storable-input';
import { columnRole, ContactRole, MAX_IMPORT_ROWS, RawRow, RejectedRow, tooManyRows } from './contact-row';

/** 100,000 rows of a few hundred bytes each fit well within this; a body past it stops the import. */
export const MAX_CSV_BYTES = 64 * 1024 * 1024;
const MAX_RECORD_BYTES = 64 * 1024;

const CSV_OPTIONS = {
  bom: true,
  skip_empty_lines: true,
  // Rows shorter than the header are common (trailing empty cells left out); longer ones are checked below.
  relax_column_count: true,
  // `5" screen` in an unquoted field is data, not a syntax error.
  relax_quotes: true,
  max_record_size: MAX_RECORD_BYTES,
};

function invalidCsv(message: string, hint?: string): ApiError {
  return ApiError.badRequest('invalid_csv', message, hint ? { hint } : undefined);
}

/** What each column of the header is: a contact field, a variable (by its trimmed name), or nothing. */
class Header {
  private constructor(private readonly columns: ({ role: ContactRole } | { variable: string } | null)[]) {}

  static read(record: string[]): Header {
    const seen = new Map<string, string>();
    const columns = record.map((cell) => {
      const name = cell.trim();
      // A column without a name (a trailing comma in the header) is ignored.
      if (!name) return null;
      const role = columnRole(name);
      const key = role ?? name.toLowerCase();
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        throw invalidCsv(
          `The header names the ${role ?? `"${name}"`} column twice ("${earlier}", "${name}")`,
        );
      }
      seen.set(key, name);
      return role ? { role } : { variable: name };
    });
    if (!seen.has('phone')) {
      const found = record.map((cell) => cell.trim()).filter(Boolean);
      throw invalidCsv(
        'The CSV has no phone column',
        `The first row must be a header naming the columns, among them phone (or phone_number); found: ${found.join(', ') || 'nothing'}`,
      );
    }
    return new Header(columns);
  }

  toRow(record: string[], row: number): RawRow | RejectedRow {
    const extra = record.slice(this.columns.length).filter((value) => value.trim() !== '');
    if (extra.length > 0) {
      return { row, reason: `row has ${record.length} fields, the header has ${this.columns.length}` };
    }
    const raw: RawRow = { row, variables: {} };
    const variables: [string, string][] = [];
    this.columns.forEach((column, index) => {
      const value = record[index]?.trim();
      if (!column || !value) return;
      if ('role' in column) raw[column.role] = value;
      else variables.push([column.variable, value]);
    });
    // fromEntries defines own properties, so a column named __proto__ stays a plain variable.
    raw.variables = Object.fromEntries(variables);
    return raw;
  }
}

/**
 * Streams a CSV body as rows: a header row first (columns matched case-insensitively: phone or
 * phone_number, name, email; any other column is a variable), then one row per record. A BOM, CRLF
 * line ends, quoted fields and blank lines are fine. UTF-8. Stops with 400 `invalid_csv` (no phone
 * column, malformed CSV naming its line) or 413 (too many rows or bytes); whatever the outcome, the
 * rest of the body is drained so that the answer reaches the client.
 */
export async function* csvContactRows(input: Readable): AsyncGenerator<RawRow | RejectedRow> {
  // Where the last complete record ended, for the line of a quote that is never closed.
  let parsed = { lines: 0, emptyLines: 0 };
  const parser = parse({
    ...CSV_OPTIONS,
    on_record: (record: string[], { lines, empty_lines }) => {
      parsed = { lines, emptyLines: empty_lines };
      // The edge rule of every route (see storable-input), here per line since the body is a stream.
      if (record.some(isUnstorableText)) {
        throw invalidCsv(
          `Line ${lines}: a field ${UNSTORABLE_TEXT_MESSAGE}`,
          'Remove the character from the cell (spreadsheets sometimes export it from pasted text)',
        );
      }
      return record;
    },
  });
  // A client that goes away mid-upload is not a server error: the import fails as a bad request.
  const abort = () => parser.destroy(invalidCsv('The request body ended before the CSV was complete'));
  const onClose = () => {
    if (!input.readableEnded) abort();
  };
  input.once('error', abort);
  input.once('close', onClose);
  input.pipe(parser);
  let header: Header | null = null;
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (parser.info.bytes > MAX_CSV_BYTES) throw tooManyBytes();
      // Empty fields only (`,,,`, a blank row as spreadsheets export it) is a blank line too.
      if (record.every((value) => value.trim() === '')) continue;
      if (!header) {
        header = Header.read(record);
        continue;
      }
      row += 1;
      if (row > MAX_IMPORT_ROWS) throw tooManyRows();
      yield header.toRow(record, row);
    }
  } catch (err) {
    if (err instanceof CsvError) throw malformed(err, parsed);
    throw err;
  } finally {
    input.off('error', abort);
    input.off('close', onClose);
    input.unpipe(parser);
    parser.destroy();
    if (!input.readableEnded) input.resume();
  }
  if (!header) {
    throw invalidCsv(
      'The CSV is empty',
      'Send a header row naming the columns (phone, name, email, …), then one row per contact',
    );
  }
}

/** csv-parse names the line where it stopped; for a quote never closed, the row it opened in is more use. */
function malformed(err: CsvError, parsed: { lines: number; emptyLines: number }): ApiError {
  // Blank lines after the last complete record come before the open quote (inside it, they are data).
  const line = parsed.lines + 1 + Number(err.empty_lines) - parsed.emptyLines;
  return invalidCsv(
    err.code === 'CSV_QUOTE_NOT_CLOSED'
      ? `Malformed CSV: the row starting on line ${line} opens a quote that is never closed`
      : `Malformed CSV: ${err.message}`,
    'Quote fields that hold commas, quotes or line breaks, and double the quotes inside them ("")',
  );
}

function tooManyBytes(): ApiError {
  return new ApiError(
    HttpStatus.PAYLOAD_TOO_LARGE,
    'payload_too_large',
    `A CSV import is at most ${MAX_CSV_BYTES / 1024 / 1024} MB; nothing was imported`,
    { hint: 'Split the list into several imports' },
  );
}
