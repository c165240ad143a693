import { HttpException, HttpStatus } from '@nestjs/common';

export interface ErrorDetail {
  field: string;
  message: string;
}

export interface ApiErrorOptions {
  hint?: string;
  details?: ErrorDetail[];
  headers?: Record<string, string>;
}

/** An error a client is meant to see: HTTP status, stable snake_case code, readable message (CONTRACT §4). */
export class ApiError extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: string,
    message: string,
    readonly extra: ApiErrorOptions = {},
  ) {
    super(message, status);
  }

  static badRequest(code: string, message: string, options?: ApiErrorOptions): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, code, message, options);
  }

  static notFound(code: string, message: string): ApiError {
    return new ApiError(HttpStatus.NOT_FOUND, code, message);
  }

  static unprocessable(code: string, message: string, options?: ApiErrorOptions): ApiError {
    return new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, code, message, options);
  }

  static conflict(code: string, message: string, options?: ApiErrorOptions): ApiError {
    return new ApiError(HttpStatus.CONFLICT, code, message, options);
  }

  static unauthorized(message = 'Missing or invalid Authorization header'): ApiError {
    return new ApiError(HttpStatus.UNAUTHORIZED, 'unauthorized', message, {
      hint: 'Send "Authorization: Bearer <JWT or agency API key>"',
    });
  }

  static forbidden(code: string, message: string): ApiError {
    return new ApiError(HttpStatus.FORBIDDEN, code, message);
  }
}
