import { validationFailed } from '../../common/errors/validation';
import { columnRole, MAX_IMPORT_ROWS, RawRow, RejectedRow, tooManyRows } from './contact-row';

function readElement(element: unknown, row: number): RawRow | RejectedRow {
  if (typeof element !== 'object' || element === null || Array.isArray(element)) {
    return { row, reason: 'row is not a JSON object' };
  }
  const raw: RawRow = { row, variables: {} };
  const variables: [string, string][] = [];
  const roleKeys = new Map<string, string>();
  for (const [key, value] of Object.entries(element)) {
    if (value === null || value === undefined) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      return { row, reason: `${key} must be a string, number or boolean` };
    }
    const text = String(value).trim();
    const role = columnRole(key);
    if (role) {
      const earlier = roleKeys.get(role);
      if (earlier !== undefined) return { row, reason: `${role} is given twice (${earlier}, ${key})` };
      roleKeys.set(role, key);
      if (text) raw[role] = text;
    } else if (text) {
      variables.push([key, text]);
    }
  }
  raw.variables = Object.fromEntries(variables);
  return raw;
}

/**
 * The rows of a JSON import: an array of objects `{phone, name?, email?, ...}` whose other string,
 * number and boolean fields become variables (as strings). Checks the array itself at once (400 when
 * it is not one, 413 past the row limit); an element that is not an object is a rejected row.
 */
export function jsonContactRows(body: unknown): Iterable<RawRow | RejectedRow> {
  if (!Array.isArray(body)) {
    throw validationFailed([
      {
        field: 'body',
        message: 'body must be a JSON array of contacts (or a CSV with Content-Type: text/csv)',
      },
    ]);
  }
  if (body.length > MAX_IMPORT_ROWS) throw tooManyRows();
  return (function* () {
    for (let index = 0; index < body.length; index += 1) yield readElement(body[index], index + 1);
  })();
}
