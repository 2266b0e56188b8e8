/**
 * An error an adapter answers with a 4xx: what went wrong (code, message) and the
 * details a caller needs to correct the request. Each interface renders it in its own shape.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The 400 `validation_error` of a request whose query, path or body does not validate (errors: pydantic-style). */
export function validationError(message: string, errors: unknown[]): HttpError {
  return new HttpError(400, 'validation_error', message, { errors });
}
