import { z } from 'zod';
import { echoJson } from '../../core/src';

/**
 * Validation of the Lambda handlers' events: each event kind has a zod schema next to the
 * code that owns it; these are the fields they share and the one way to apply them.
 */

/** An event the handler cannot run: names the field, what it allows and what it got. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

const NON_EMPTY = 'a non-empty string';

/** An id or name: a non-empty string. */
export const eventText = z.string({ error: NON_EMPTY }).min(1, { error: NON_EMPTY });

const ISO_TIME = 'an ISO time';

/** An ISO time (anything `Date` parses), kept as sent; absent, null or empty: none. */
export const eventTime = z.preprocess(
  (value) => (value === '' || value === null ? undefined : value),
  z
    .string({ error: ISO_TIME })
    .refine((text) => !Number.isNaN(Date.parse(text)), { error: ISO_TIME })
    .optional(),
);

/** The event, validated: `The event needs episode_id (a non-empty string).` */
export function parseEvent<T>(schema: z.ZodType<T>, event: unknown): T {
  const parsed = schema.safeParse(event);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  // What the message repeats of the event is capped: an event may be megabytes, or nested deeper than JSON.stringify can go.
  if (issue.path.length === 0) throw new InvalidEventError(`The event must be a JSON object, got ${echoJson(event)}.`);
  const got = valueAt(event, issue.path);
  const gotText = got === undefined ? '' : `, got ${echoJson(got)}`;
  throw new InvalidEventError(`The event needs ${issue.path.map(String).join('.')} (${issue.message})${gotText}.`);
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((at, key) => (at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined), value);
}
