import { ApiResponse, getSchemaPath } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ErrorDto } from './error-body.dto';
import { ERROR_EXAMPLES } from './error-examples';

/** Error codes by HTTP status, e.g. `{ 404: ['agent_not_found'], 422: ['agent_has_no_phone_number'] }`. */
export type ErrorCodes = Readonly<Partial<Record<number, readonly string[]>>>;

const DECLARED_CODES = Symbol('switchboard:error-codes');

/**
 * Documents the error codes a route answers, per status (CONTRACT §4). Stacks: `@Auth` adds its own,
 * the route adds what its service throws. Codes every route of a kind answers (validation, cursors,
 * body limits, 503) are added to the whole document by `completeErrorResponses`.
 */
export function ApiErrors(codes: ErrorCodes): MethodDecorator {
  return (target, key, descriptor) => {
    const handler = descriptor.value as object;
    const merged = mergeCodes(
      (Reflect.getMetadata(DECLARED_CODES, handler) as ErrorCodes | undefined) ?? {},
      codes,
    );
    Reflect.defineMetadata(DECLARED_CODES, merged, handler);
    for (const [status, list] of Object.entries(merged)) {
      ApiResponse({ status: Number(status), description: 'Error', schema: errorResponseSchema(list ?? []) })(
        target,
        key,
        descriptor,
      );
    }
  };
}

export function mergeCodes(a: ErrorCodes, b: ErrorCodes): ErrorCodes {
  const merged: Partial<Record<number, string[]>> = {};
  for (const source of [a, b]) {
    for (const [status, list] of Object.entries(source)) {
      merged[Number(status)] = [...new Set([...(merged[Number(status)] ?? []), ...(list ?? [])])];
    }
  }
  return merged;
}

/** The error body (ErrorBodyDto) with `error.code` narrowed to these codes. */
export function errorResponseSchema(codes: readonly string[]): SchemaObject {
  const unknown = codes.filter((code) => !(code in ERROR_EXAMPLES));
  if (unknown.length > 0) throw new Error(`error codes without an example in ERROR_EXAMPLES: ${unknown}`);
  return {
    type: 'object',
    required: ['success', 'error'],
    properties: {
      success: { type: 'boolean', enum: [false] },
      error: {
        allOf: [
          { $ref: getSchemaPath(ErrorDto) },
          { type: 'object', properties: { code: { type: 'string', enum: [...codes].sort() } } },
        ],
      },
    },
  };
}

/** The codes an error response built by errorResponseSchema lists. */
export function codesOf(schema: SchemaObject | undefined): string[] {
  const error = schema?.properties?.error as SchemaObject | undefined;
  const narrowed = error?.allOf?.[1] as SchemaObject | undefined;
  const code = narrowed?.properties?.code as SchemaObject | undefined;
  return (code?.enum as string[] | undefined) ?? [];
}
