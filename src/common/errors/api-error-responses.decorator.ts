import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorBodyDto } from './error-body.dto';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (`validation_failed` with one detail per field, or a more specific code)',
  401: 'Missing or invalid credentials or signature',
  404: 'Not found in this agency',
  409: 'Conflict with the current state',
  422: 'Well-formed but not possible now',
  429: 'Rate limited (see Retry-After)',
  502: 'Ultravox unreachable, timed out or failing',
};

/** Documents error answers in OpenAPI with the one error body of CONTRACT §4. */
export function ApiErrorResponses(...statuses: number[]) {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, type: ErrorBodyDto, description: DESCRIPTIONS[status] ?? 'Error' }),
    ),
  );
}
