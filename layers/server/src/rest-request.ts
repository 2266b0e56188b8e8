import type { z } from 'zod';
import { validationError } from './http-error';
import { describeErrors, pydanticErrors } from './pydantic-errors';

/** The part of a REST request a schema validates; it heads the `loc` of each validation error. */
export type RequestPart = 'body' | 'query' | 'path';

/** A request's body, query or path parsed by its schema, or a 400 validation_error with pydantic-style errors. */
export function parseRequestPart<S extends z.ZodType>(schema: S, value: unknown, where: RequestPart): z.output<S> {
  if (where === 'body' && value === undefined) throw validationError('A JSON body is required.', []);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const errors = pydanticErrors(parsed.error, value, [where]);
    throw validationError(describeErrors(errors), errors);
  }
  return parsed.data;
}
