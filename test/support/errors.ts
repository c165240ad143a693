import type { Response } from 'supertest';

/** The error shape of CONTRACT §4 for `code` (any message unless one is given). */
export const errorBody = (code: string, message: unknown = expect.any(String)) => ({
  success: false,
  error: expect.objectContaining({ code, message }),
});

/** A 400 validation_failed naming exactly these fields, one `details` entry each (§4). */
export function expectValidationFailed(res: Response, ...fields: string[]): void {
  expect(res.status).toBe(400);
  expect(res.body).toEqual(errorBody('validation_failed'));
  const details = res.body.error.details as { field: string; message: string }[];
  expect(details.map((d) => d.field).sort()).toEqual([...fields].sort());
  for (const detail of details) expect(detail.message).toEqual(expect.any(String));
}
