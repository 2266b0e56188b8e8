import fc from 'fast-check';

/**
 * Hostile JSON as text: values a clumsy client or an attacker sends (edge numbers, unicode,
 * lone surrogates, prototype keys, huge strings, nesting thousands deep) and text that is
 * almost JSON. Values are built as trees with two kinds of leaves that JSON.stringify cannot
 * write: `Deep` (nesting written as repeated text, so that no recursion in this process
 * depends on the depth) and `Raw` (a token that breaks the JSON on purpose).
 */

export class Deep {
  constructor(readonly depth: number, readonly container: 'object' | 'array') {}
}

export class Raw {
  constructor(readonly text: string) {}
}

export type HostileValue = null | boolean | number | string | Deep | Raw | HostileValue[] | { [key: string]: HostileValue };

/** Writes a hostile value as JSON text (broken on purpose where it contains a Raw token). */
export function toJsonText(value: HostileValue | undefined): string {
  if (value === undefined) return '';
  if (value instanceof Deep) {
    return value.container === 'object' ? `${'{"a":'.repeat(value.depth)}1${'}'.repeat(value.depth)}` : `${'['.repeat(value.depth)}1${']'.repeat(value.depth)}`;
  }
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Depths around the ones that broke the servers (issue 12: ~5000-6000) and ones any parser takes. */
export const deepValue = fc
  .tuple(fc.constantFrom(10, 200, 1000, 3000, 6000, 12000), fc.constantFrom<'object' | 'array'>('object', 'array'))
  .map(([depth, container]) => new Deep(depth, container));

export const edgeNumber = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e21, 1e308, -1e308, 5e-324, 15, 16, 101, 1000000),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const bigString = fc.constantFrom(300, 5_000, 70_000).map((n) => 'é'.repeat(n));

export const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('', ' ', '__proto__', 'constructor', 'prototype', '../../etc/passwd', '..', '%00', '%', '\u0000', '\ud800', '\udfff\ud800', '😀', '\u202e', 'null', 'NaN', 'Infinity', '-0', '1e999', '<script>alert(1)</script>', 'easy_mnist', 'hard_cifar', 'run_epochs', 'submit_model', 'configure_training', 'adam', 'sgd', 'cosine', 'a'.repeat(256), 'line\nbreak\ttab', '\u001b[2J', '\u0085', '\u007f', 'r'.repeat(1001)) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: bigString },
);

export const hostileKey = fc.oneof(hostileString.filter((s) => s.length < 300), fc.constantFrom('type', 'data', 'tool', 'arguments', 'episode_id', 'request_id', 'seed', 'task_id', 'id', 'method', 'params', 'jsonrpc', 'agent', 'policy', 'model', 'version', 'reason', 'metadata', '_meta'));

/** Tokens that make the text invalid JSON where they stand. */
const brokenToken = fc.constantFrom('NaN', 'Infinity', '-Infinity', 'undefined', '1e999', '-1e999', '01', '.5', '0x10', "'single'", '"unterminated', '{', ']', '"\\ud800"', '"\\u00"', '/*c*/1', '1'.repeat(400)).map((t) => new Raw(t));

export const hostileScalar: fc.Arbitrary<HostileValue> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 3, arbitrary: edgeNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);

/** A JSON value of bounded size whose leaves are hostile; now and then nesting thousands deep or a broken token. */
export const hostileValue: fc.Arbitrary<HostileValue> = fc.letrec<{ value: HostileValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: hostileScalar },
    { weight: 2, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 2, arbitrary: fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }) },
    { weight: 1, arbitrary: deepValue },
    { weight: 1, arbitrary: brokenToken },
  ),
})).value;

/** A copy with one more key; defineProperty keeps a "__proto__" key an own key instead of setting the prototype. */
function withKey(object: Record<string, HostileValue>, key: string, value: HostileValue): Record<string, HostileValue> {
  const out = { ...object };
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * Variants of a valid template: some fields replaced by hostile values (nested templates
 * mutated in turn), some dropped, hostile extra keys added.
 */
export function mutated(template: Record<string, HostileValue>): fc.Arbitrary<Record<string, HostileValue>> {
  const keys = Object.keys(template);
  const replacement = (key: string): fc.Arbitrary<HostileValue> => {
    const original = template[key];
    const isObject = original !== null && typeof original === 'object' && !Array.isArray(original) && !(original instanceof Deep) && !(original instanceof Raw);
    return isObject ? fc.oneof(mutated(original as Record<string, HostileValue>), hostileValue) : hostileValue;
  };
  const replacements = keys.length === 0 ? fc.constant([] as [string, HostileValue][]) : fc.array(fc.constantFrom(...keys).chain((k) => replacement(k).map((v) => [k, v] as [string, HostileValue])), { maxLength: 3 });
  return fc
    .record({ replace: replacements, drop: fc.subarray(keys, { maxLength: Math.min(2, keys.length) }), extra: fc.dictionary(hostileKey, hostileValue, { maxKeys: 2 }) })
    .map(({ replace, drop, extra }) => {
      const out: Record<string, HostileValue> = { ...template };
      for (const k of drop) delete out[k];
      for (const [k, v] of replace) out[k] = v;
      return Object.entries(extra).reduce((acc, [k, v]) => withKey(acc, k, v), out);
    });
}

/** Text that is not quite JSON. */
export const brokenJsonText = fc.constantFrom(
  '',
  ' ',
  '{',
  '{"a":1,}',
  '[1,2',
  '{"a" 1}',
  "{'a':1}",
  '\ufeff{}',
  '{}garbage',
  '{"a":NaN}',
  '{"a":1e999}',
  'null',
  'true',
  '"string"',
  '[]',
  '42',
  '\u0000',
  '{"a":"\\ud800"}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
);

/** A body for an endpoint whose valid body is `template`: mostly variants of it, then anything at all. */
export function hostileBodyText(template: Record<string, HostileValue>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: mutated(template).map(toJsonText) },
    { weight: 2, arbitrary: hostileValue.map(toJsonText) },
    { weight: 1, arbitrary: deepValue.map(toJsonText) },
    { weight: 1, arbitrary: fc.tuple(hostileKey, deepValue).map(([key, deep]) => toJsonText(withKey(template, key, deep))) },
    { weight: 1, arbitrary: brokenJsonText },
  );
}

function isTemplateObject(value: HostileValue | undefined): value is Record<string, HostileValue> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Deep) && !(value instanceof Raw);
}

/** A copy of `template` with the value at `path` replaced (objects along the path copied). */
function withValueAt(template: Record<string, HostileValue>, path: readonly string[], value: HostileValue): Record<string, HostileValue> {
  const [key, ...rest] = path;
  if (key === undefined) return template;
  const inner = template[key];
  return withKey(template, key, rest.length === 0 ? value : withValueAt(isTemplateObject(inner) ? inner : {}, rest, value));
}

/**
 * A valid body whose one field at `path` is hostile (an object there mutated like a template,
 * or any hostile value): so that generated cases surely reach a field a body carries deep
 * inside, such as an agent label or a step's reason.
 */
export function hostileFieldBodyText(template: Record<string, HostileValue>, path: readonly string[]): fc.Arbitrary<string> {
  const original = path.reduce<HostileValue | undefined>((value, key) => (isTemplateObject(value) ? value[key] : undefined), template);
  const value = isTemplateObject(original) ? fc.oneof(mutated(original), hostileValue) : hostileValue;
  return value.map((v) => toJsonText(withValueAt(template, path, v)));
}
