import { ArgumentMetadata, ParseUUIDPipe, ValidationPipe } from '@nestjs/common';
import { ValidationError } from 'class-validator';
import { ApiError, ErrorDetail } from './api-error';

/** One detail per failing field, with nested fields as dotted paths (`calling_window.start`). */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([rule, message]) =>
      rule === 'whitelistValidation' ? `${field} is not an accepted field` : message,
    );
    const here = own.length > 0 ? [{ field, message: own.join('; ') }] : [];
    return [...here, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

export function validationFailed(details: ErrorDetail[]): ApiError {
  const fields = [...new Set(details.map((d) => d.field))].join(', ');
  return ApiError.badRequest('validation_failed', `Request validation failed: ${fields}`, { details });
}

/** For `:id` path parameters: a malformed id is a validation failure in the contract's shape. */
export const uuidParam = (field = 'id') =>
  new ParseUUIDPipe({
    exceptionFactory: () => validationFailed([{ field, message: `${field} must be a UUID` }]),
  });

/**
 * The global ValidationPipe, except that a JSON body which is not an object (`null`, a string, a
 * number) answers 400 on a route that takes an object: Nest's pipe turns a null body into `{}`, so a
 * `null` PATCH answered 200 having changed nothing. A missing body is still an empty one.
 */
export class ObjectBodyValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // toValidate: the parameter is a DTO class (not unknown, string, Buffer, an array, …).
    const takesObject = metadata.type === 'body' && this.toValidate(metadata);
    if (takesObject && value !== undefined && (value === null || typeof value !== 'object')) {
      throw validationFailed([{ field: 'body', message: 'the body must be a JSON object' }]);
    }
    return super.transform(value, metadata);
  }
}
