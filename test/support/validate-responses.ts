import { Test } from 'supertest';
import { OpenApiResponses } from './openapi-responses';

/**
 * Jest setup of the e2e project (setupFilesAfterEnv): every answer a spec reads through supertest is
 * checked against the committed OpenAPI document, and one that breaks it fails the request (so the
 * spec that produced it). An undocumented status or error code fails too: the document stays complete.
 * Traffic outside the API's operations (raw sockets, Bull Board, /docs, the simulator, unknown paths)
 * matches no operation and is not checked; a spec that puts the system outside the contract on
 * purpose is exempt by name, with its reason.
 */
const EXEMPT_SPECS: RegExp[] = [
  // Writes settings the API refuses straight into Postgres (a calling_window of [] or 'mon'), so the
  // answers it reads show them as stored: outside the schemas on purpose.
  /stored-settings\.e2e-spec\.ts$/,
];

const testPath = expect.getState().testPath ?? '';
if (!EXEMPT_SPECS.some((pattern) => pattern.test(testPath))) {
  const responses = new OpenApiResponses();
  type Assert = (
    this: Test,
    resError: Error | null,
    res: unknown,
    fn?: (err: Error | null, res: unknown) => void,
  ) => void;
  const proto = Test.prototype as unknown as { assert: Assert };
  const assert = proto.assert;
  proto.assert = function (this: Test & { method: string; url: string }, resError, res, fn) {
    assert.call(this, resError, res, (err, checked) => {
      const answer = res as
        { status: number; headers: Record<string, string>; body: unknown; text?: string } | undefined;
      const problem =
        !err && answer
          ? responses.problemWith({
              method: this.method,
              url: this.url,
              status: answer.status,
              contentType: answer.headers['content-type'],
              body: answer.body,
              text: answer.text,
            })
          : null;
      fn?.call(this, err ?? (problem ? new Error(problem) : null), checked);
    });
  };
}
