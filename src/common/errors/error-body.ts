import type { ErrorBodyDto } from './error-body.dto';

/** The code of an error that has none of its own, by HTTP status (CONTRACT §4). */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  422: 'unprocessable_entity',
  429: 'rate_limited',
  431: 'headers_too_large',
  502: 'bad_gateway',
  503: 'service_unavailable',
};

export function codeForStatus(status: number): string {
  return CODE_BY_STATUS[status] ?? `http_${status}`;
}

/** `{"success": false, "error": {code, message, hint?, details?}}`, the shape of every error answer. */
export function errorBody(
  code: string,
  message: string,
  options: { hint?: string; details?: ErrorBodyDto['error']['details'] } = {},
): ErrorBodyDto {
  const error: ErrorBodyDto['error'] = { code, message };
  if (options.hint) error.hint = options.hint;
  if (options.details) error.details = options.details;
  return { success: false, error };
}
