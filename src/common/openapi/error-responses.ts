import type {
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  ResponseObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import {
  codesOf,
  ErrorCodes,
  errorResponseSchema,
  mergeCodes,
} from '../errors/api-error-responses.decorator';
import { ERROR_EXAMPLES } from '../errors/error-examples';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const BODY_METHODS: readonly string[] = ['post', 'put', 'patch'];

const STATUS_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (`validation_failed` has one `details` entry per field)',
  401: 'Missing or invalid credentials',
  403: 'Not allowed for this caller',
  404: 'Not found in this agency',
  409: 'Conflict with the current state',
  413: 'Body too large',
  414: 'A path segment is longer than 100 characters',
  415: 'Only `application/json` is accepted here',
  422: 'Well-formed but not possible now',
  429: 'Over the API key’s rate limit; retry after `Retry-After` seconds',
  431: 'Request line and headers larger than 16 KB',
  500: 'Unexpected error; `error_id` is also in the server’s log line',
  502: 'Ultravox unreachable, timed out or failing',
  503: 'Postgres or Redis unreachable (retry after `Retry-After` seconds), or unhealthy',
};

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};

/** The codes every operation of a kind can answer, whatever its route declares (README "Errors every route can answer"). */
function kindCodes(method: string, operation: OperationObject): ErrorCodes {
  const parameters = (operation.parameters ?? []) as ParameterObject[];
  const hasPathParams = parameters.some((p) => p.in === 'path');
  const takesBody = BODY_METHODS.includes(method);
  const badRequest = ['validation_failed'];
  if (hasPathParams || takesBody) badRequest.push('bad_request');
  if (parameters.some((p) => p.in === 'query' && p.name === 'cursor')) badRequest.push('invalid_cursor');
  const codes: Partial<Record<number, string[]>> = {
    // The edge rule (NUL, unpaired surrogates, depth) applies to path, query and body of every route.
    400: badRequest,
    431: ['headers_too_large'],
    500: ['internal_error'],
    503: ['service_unavailable'],
  };
  if (hasPathParams) codes[414] = ['uri_too_long'];
  if (takesBody) {
    codes[413] = ['payload_too_large'];
    codes[415] = ['unsupported_media_type'];
  }
  return codes;
}

function errorResponse(status: number, codes: readonly string[]): ResponseObject {
  const sorted = [...codes].sort();
  const base = STATUS_DESCRIPTIONS[status] ?? 'Error';
  return {
    description: `${base}. Codes: ${sorted.map((code) => `\`${code}\``).join(', ')}.`,
    ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
    content: {
      'application/json': {
        schema: errorResponseSchema(sorted),
        examples: Object.fromEntries(
          sorted.map((code) => [
            code,
            {
              summary: code,
              value: { success: false, error: { code, message: ERROR_EXAMPLES[code] } },
            },
          ]),
        ),
      },
    },
  };
}

/**
 * Every operation's error responses: the codes its decorators declared plus those of its kind, per
 * status, as an enum on `error.code` with an example of each (`success: false`).
 */
export function completeErrorResponses(document: OpenAPIObject): void {
  for (const pathItem of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = pathItem[method];
      if (!operation) continue;
      const declared: Partial<Record<number, string[]>> = {};
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        // Errors are JSON even where the route produces something else (GET /metrics: text).
        const schema = Object.values((response as ResponseObject).content ?? {})[0]?.schema;
        declared[Number(status)] = codesOf(schema as never);
      }
      const all = mergeCodes(declared, kindCodes(method, operation));
      for (const [status, codes] of Object.entries(all)) {
        if (!codes?.length) throw new Error(`${method} ${status}: an error response with no code`);
        operation.responses[status] = errorResponse(Number(status), codes);
      }
    }
  }
}
