import type { z } from 'zod';
import { echoInput, echoText } from '../../core/src';

/** One validation error in the shape pydantic (and so FastAPI and OpenEnv) reports it; `input` is the echo-capped input. */
export interface PydanticError {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

const TYPE_NAMES: Record<string, [string, string]> = {
  string: ['string_type', 'Input should be a valid string'],
  number: ['float_type', 'Input should be a valid number'],
  int: ['int_type', 'Input should be a valid integer'],
  boolean: ['bool_type', 'Input should be a valid boolean'],
  object: ['dict_type', 'Input should be a valid dictionary'],
  record: ['dict_type', 'Input should be a valid dictionary'],
  array: ['list_type', 'Input should be a valid list'],
};

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

function toPydantic(issue: z.core.$ZodIssue, root: unknown, prefix: (string | number)[]): PydanticError[] {
  const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
  const loc = [...prefix, ...path];
  const input = valueAt(root, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        type: 'extra_forbidden',
        loc: [...loc, key],
        msg: 'Extra inputs are not permitted',
        input: (input as Record<string, unknown> | undefined)?.[key],
      }));
    case 'invalid_type': {
      if (input === undefined) return [{ type: 'missing', loc, msg: 'Field required', input: valueAt(root, issue.path.slice(0, -1)) }];
      const [type, msg] = TYPE_NAMES[issue.expected] ?? [`${issue.expected}_type`, `Input should be a valid ${issue.expected}`];
      return [{ type, loc, msg, input }];
    }
    case 'invalid_value': {
      const expected = issue.values.map(quote);
      const msg = `Input should be ${expected.length > 1 ? `${expected.slice(0, -1).join(', ')} or ${expected[expected.length - 1]}` : expected[0]}`;
      return [{ type: 'literal_error', loc, msg, input, ctx: { expected: expected.join(', ') } }];
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = small ? issue.minimum : issue.maximum;
      if (issue.origin === 'string') {
        return [{ type: small ? 'string_too_short' : 'string_too_long', loc, msg: `String should have ${small ? 'at least' : 'at most'} ${bound} characters`, input }];
      }
      const inclusive = issue.inclusive !== false;
      const relation = small ? (inclusive ? 'greater_than_equal' : 'greater_than') : inclusive ? 'less_than_equal' : 'less_than';
      const words = relation.replace(/_/g, ' ').replace('equal', 'or equal');
      return [{ type: relation, loc, msg: `Input should be ${words} to ${bound}`.replace('than to', 'than'), input, ctx: { [small ? 'ge' : 'le']: bound } }];
    }
    default:
      return [{ type: 'value_error', loc, msg: issue.message, input }];
  }
}

/** An error as it may be sent: what it repeats of the input (`input`, the keys in `loc`) capped to the echo limit. */
function capped(error: PydanticError): PydanticError {
  return { ...error, loc: error.loc.map((key) => (typeof key === 'string' ? echoText(key) : key)), input: echoInput(error.input) };
}

/** zod issues as pydantic errors; `prefix` is prepended to every `loc` (e.g. ["body"]). */
export function pydanticErrors(error: z.ZodError, root: unknown, prefix: (string | number)[] = []): PydanticError[] {
  return error.issues.flatMap((issue) => toPydantic(issue, root, prefix)).map(capped);
}

/** One line for humans: "tool_name: Field required; arguments: Input should be a valid dictionary". */
export function describeErrors(errors: readonly PydanticError[]): string {
  return errors.map((e) => `${e.loc.length > 0 ? e.loc.join('.') : '(root)'}: ${e.msg}`).join('; ');
}
