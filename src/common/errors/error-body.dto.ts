/** One field that failed validation. */
export class ErrorDetailDto {
  /** Path of the field in the request, e.g. `calling_window.start`. */
  field: string;
  message: string;
}

export class ErrorDto {
  /** Stable snake_case code, e.g. `validation_failed`. */
  code: string;
  message: string;
  /** What to do about it, when there is something to do. */
  hint?: string;
  details?: ErrorDetailDto[];
  /** Present on 500s; the same id is in the server log line. */
  error_id?: string;
}

/** The body of every error answer (CONTRACT §4). */
export class ErrorBodyDto {
  /** Always false. */
  success: false;
  error: ErrorDto;
}
