/**
 * Zod schemas of single CDK context values. Values given with `-c key=value` arrive as
 * strings, cdk.json may hold numbers and booleans: each schema accepts both. A value that
 * is absent, null or blank is not given, and the setting's default applies. Each schema's
 * description says what it expects ("an integer in [1, 40]"), for the error message; a
 * numeric range is also kept as data (rangeOf), for whatever states it elsewhere.
 */
import { z } from 'zod';

const notGivenAsUndefined = (value: unknown): unknown =>
  value === null || (typeof value === 'string' && value.trim() === '') ? undefined : value;

const trimmedNumber = (value: unknown): unknown => (typeof value === 'string' ? Number(value.trim()) : value);

const trimmedText = (value: unknown): unknown => String(value).trim();

/** The inclusive bounds of a numeric setting. */
export interface ValueRange {
  min: number;
  max: number;
}

const valueRangeSchema = z.object({ min: z.number(), max: z.number() });

/** The range a schema of this module accepts (integerIn, numberIn, and what wraps them), if it is one. */
export function rangeOf(schema: z.ZodType): ValueRange | undefined {
  const parsed = valueRangeSchema.safeParse(schema.meta()?.range);
  return parsed.success ? parsed.data : undefined;
}

/** The value, or `fallback` (which `schema` accepts) when it is not given. */
export function withDefault<T extends z.ZodType>(schema: T, fallback: z.output<T>) {
  return z.preprocess((value) => notGivenAsUndefined(value) ?? fallback, schema).meta({ ...schema.meta() });
}

/**
 * `schema` with a note for its error message: what a value runs into beyond the range
 * (a quota, say). The note travels with the schema through withDefault and optional.
 */
export function withNote<T extends z.ZodType>(schema: T, note: string) {
  return schema.meta({ ...schema.meta(), note });
}

/** The note withNote attached to a schema (or what wraps it), if any. */
export function noteOf(schema: z.ZodType): string | undefined {
  const note = schema.meta()?.note;
  return typeof note === 'string' ? note : undefined;
}

/** The value, or undefined when it is not given. */
export function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess(notGivenAsUndefined, schema.optional()).meta({ ...schema.meta() });
}

// multipleOf(1) rather than int(): int() aborts the whole parse on a fraction, and the rules
// across settings would then go unchecked (not reported together with the other problems).
export function integerIn(min: number, max: number) {
  const range: ValueRange = { min, max };
  return z.preprocess(trimmedNumber, z.number().multipleOf(1).min(min).max(max)).meta({ description: `an integer in [${min}, ${max}]`, range });
}

export function numberIn(min: number, max: number) {
  const range: ValueRange = { min, max };
  return z.preprocess(trimmedNumber, z.number().min(min).max(max)).meta({ description: `a number in [${min}, ${max}]`, range });
}

/** One of the listed numbers (given as a number or a numeric string). */
export function numberAmong<const T extends readonly [number, ...number[]]>(allowed: T) {
  return z.preprocess(trimmedNumber, z.literal(allowed)).describe(`one of ${allowed.join(', ')}`);
}

/** true or false, also as a string in any case. */
export const trueOrFalse = z
  .union([z.boolean(), z.string().trim().toLowerCase().pipe(z.enum(['true', 'false'])).transform((text) => text === 'true')])
  .describe('true or false');

/** Text (trimmed) that matches `pattern`; `what` names it for the error message. */
export function textMatching(pattern: RegExp, what: string) {
  return z.preprocess(trimmedText, z.string().regex(pattern)).describe(what);
}

/** One of the listed words, compared after trimming and `normalise` (e.g. upper-casing). */
export function oneOf<const T extends readonly [string, ...string[]]>(allowed: T, normalise: (text: string) => string) {
  return z.preprocess((value) => normalise(String(value).trim()), z.enum(allowed)).describe(`one of ${allowed.join(', ')}`);
}

/** The word `none` (any case): the setting is switched off (undefined). */
export const none = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.literal('none'))
  .transform(() => undefined)
  .describe('none');

/** What `schema` accepts, or the word `none` (undefined); the range stays `schema`'s. */
export function orNone<T extends z.ZodType>(schema: T) {
  return z.union([none, schema]).meta({ ...schema.meta(), description: `${schema.description ?? ''}, or none` });
}
