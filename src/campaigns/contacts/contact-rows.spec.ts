import { Readable } from 'node:stream';
import { ApiError } from '../../common/errors/api-error';
import { RawRow, RejectedRow, validateRow } from './contact-row';
import { csvContactRows } from './csv-contact-rows';
import { jsonContactRows } from './json-contact-rows';

/** The CSV in chunks of `chunk` characters, as a request body arrives. */
async function csv(text: string, chunk = 7): Promise<(RawRow | RejectedRow)[]> {
  const chunks: Buffer[] = [];
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += chunk) chunks.push(bytes.subarray(at, at + chunk));
  const rows: (RawRow | RejectedRow)[] = [];
  for await (const row of csvContactRows(Readable.from(chunks))) rows.push(row);
  return rows;
}

async function csvError(text: string): Promise<{ status: number; code: string; message: string }> {
  try {
    await csv(text);
  } catch (err) {
    if (err instanceof ApiError) return { status: err.getStatus(), code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected the CSV to be refused');
}

describe('csvContactRows', () => {
  it('matches phone, name and email case-insensitively; other non-empty columns are variables', async () => {
    expect(await csv('Phone_Number, NAME ,Email,Company,Plan\n+15551230001, Ada ,a@b.co,Acme,\n')).toEqual([
      { row: 1, phone: '+15551230001', name: 'Ada', email: 'a@b.co', variables: { Company: 'Acme' } },
    ]);
  });

  it('takes a BOM, CRLF, quoted fields with commas, quotes and line breaks, multi-byte characters split across chunks', async () => {
    const rows = await csv('\uFEFFphone,name,note\r\n+15551230001,"Zoë, ""Z""","a\r\nb"\r\n', 3);
    expect(rows).toEqual([
      { row: 1, phone: '+15551230001', name: 'Zoë, "Z"', variables: { note: 'a\r\nb' } },
    ]);
  });

  it('skips blank lines and rows of empty fields without counting them', async () => {
    const rows = await csv('phone\n\n+15551230001\n,\n \n+15551230002\n');
    expect(rows.map((r) => r.row)).toEqual([1, 2]);
  });

  it('rejects a row with more non-empty fields than the header; shorter rows are fine', async () => {
    expect(await csv('phone,name\n+15551230001,Ada,extra\n+15551230002,Bo,\n+15551230003\n')).toEqual([
      { row: 1, reason: 'row has 3 fields, the header has 2' },
      { row: 2, phone: '+15551230002', name: 'Bo', variables: {} },
      { row: 3, phone: '+15551230003', variables: {} },
    ]);
  });

  it('ignores unnamed columns and keeps a column named __proto__ as a plain variable', async () => {
    const [row] = await csv('phone,,__proto__\n+15551230001,x,y\n');
    expect(Object.getPrototypeOf((row as RawRow).variables)).toBe(Object.prototype);
    expect(JSON.stringify((row as RawRow).variables)).toBe('{"__proto__":"y"}');
  });

  it('refuses a header without a phone column, or naming a column twice', async () => {
    expect(await csvError('name,email\nAda,a@b.co\n')).toEqual({
      status: 400,
      code: 'invalid_csv',
      message: 'The CSV has no phone column',
    });
    expect((await csvError('phone,Phone_Number\n+1,+2\n')).message).toBe(
      'The header names the phone column twice ("phone", "Phone_Number")',
    );
    expect((await csvError('phone,City,city\n')).message).toBe(
      'The header names the "city" column twice ("City", "city")',
    );
    expect((await csvError('')).message).toBe('The CSV is empty');
  });

  it('names the line of the row whose quote is never closed', async () => {
    expect(
      await csvError('phone,name\n+15551230001,Ada\n\n+15551230002,"Grace\n+15551230003,Linus\n'),
    ).toEqual({
      status: 400,
      code: 'invalid_csv',
      message: 'Malformed CSV: the row starting on line 4 opens a quote that is never closed',
    });
    expect((await csvError(`phone,note\n+15551230001,${'x'.repeat(70_000)}\n`)).message).toMatch(
      /^Malformed CSV: .*line 2/,
    );
  });
});

describe('jsonContactRows', () => {
  it('reads objects, turning numbers and booleans into string variables and skipping nulls', () => {
    expect([
      ...jsonContactRows([{ PHONE: '+15551230001', name: ' Ada ', age: 36, vip: false, x: null }, 7]),
    ]).toEqual([
      { row: 1, phone: '+15551230001', name: 'Ada', variables: { age: '36', vip: 'false' } },
      { row: 2, reason: 'row is not a JSON object' },
    ]);
  });

  it('rejects a row with nested values or the phone given twice', () => {
    expect([
      ...jsonContactRows([
        { phone: '+15551230001', tags: ['a'] },
        { phone: '+15551230001', phone_number: '+15551230002' },
      ]),
    ]).toEqual([
      { row: 1, reason: 'tags must be a string, number or boolean' },
      { row: 2, reason: 'phone is given twice (phone, phone_number)' },
    ]);
  });

  it('refuses a body that is not an array at once', () => {
    expect(() => jsonContactRows({ phone: '+15551230001' })).toThrow(ApiError);
  });
});

describe('validateRow', () => {
  const row = (fields: Partial<RawRow>): RawRow => ({ row: 9, variables: {}, ...fields });

  it('normalises the phone to E.164', () => {
    expect(validateRow(row({ phone: '+1 (555) 123-0001', email: 'a@b.co' }))).toEqual({
      row: 9,
      phone: '+15551230001',
      name: null,
      email: 'a@b.co',
      variables: {},
    });
  });

  it('gives every problem of the row', () => {
    expect(validateRow(row({ phone: '5551230001', email: 'nope', name: 'x'.repeat(201) }))).toEqual({
      row: 9,
      reason:
        'phone is not an E.164 number; name is longer than 200 characters; email is not an email address',
    });
    expect(validateRow(row({ variables: { big: 'x'.repeat(17_000) }, phone: '+15551230001' }))).toEqual({
      row: 9,
      reason: 'the other columns hold more than 16 KB',
    });
    expect(validateRow(row({}))).toEqual({ row: 9, reason: 'phone is missing' });
  });
});
