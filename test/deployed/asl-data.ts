/**
 * The data side of the States Language interpreter (JSONPath query language): errors, the
 * context object, reference paths ($, $$, .field, [index]) and payload templates (`key.$`).
 * Shared by the state machine and its Distributed Map runner.
 */
export type Json = any;

export class StatesError extends Error {
  constructor(
    readonly error: string,
    override readonly cause: string,
  ) {
    super(`${error}: ${cause}`);
  }
}

/**
 * Something in a definition the interpreter does not implement. It is a States.Runtime
 * error (no Catch on States.ALL takes it), and nothing counts it as a tolerated failure:
 * a definition the harness cannot run fails the test instead of passing it.
 */
export class UnsupportedDefinition extends StatesError {
  constructor(what: string) {
    super('States.Runtime', `unsupported ${what}`);
  }
}

export interface Context {
  Execution: { Id: string; Name: string; StartTime: string; Input: unknown };
  StateMachine: { Id: string; Name: string };
  State?: { Name: string; EnteredTime: string };
  Map?: { Item: { Index: number; Value: unknown } };
}

export function readPath(path: string, data: Json, context: Context): Json {
  const [root, rest] = path.startsWith('$$') ? [context as Json, path.slice(2)] : path.startsWith('$') ? [data, path.slice(1)] : [undefined, null];
  if (rest === null) throw new UnsupportedDefinition(`path ${path}`);
  let value = root;
  for (const m of rest.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)) {
    const key = m[1] ?? Number(m[2]);
    if (value === null || typeof value !== 'object' || !(key in value)) throw new StatesError('States.Runtime', `path ${path} does not exist in the input`);
    value = value[key];
  }
  return value;
}

export function writePath(path: string | null | undefined, data: Json, result: Json): Json {
  if (path === null) return data;
  if (path === undefined || path === '$') return result;
  const keys = [...path.slice(1).matchAll(/\.([^.[\]]+)/g)].map((m) => m[1]!);
  const out = structuredClone(data ?? {});
  let target = out;
  for (const key of keys.slice(0, -1)) target = target[key] ??= {};
  target[keys[keys.length - 1]!] = result;
  return out;
}

export function applyTemplate(template: Json, data: Json, context: Context): Json {
  if (Array.isArray(template)) return template.map((t) => applyTemplate(t, data, context));
  if (template === null || typeof template !== 'object') return template;
  return Object.fromEntries(
    Object.entries(template).map(([key, value]) => {
      if (!key.endsWith('.$')) return [key, applyTemplate(value, data, context)];
      if (typeof value !== 'string' || !value.startsWith('$')) throw new UnsupportedDefinition(`(intrinsic function?) ${key}: ${JSON.stringify(value)}`);
      return [key.slice(0, -2), readPath(value, data, context)];
    }),
  );
}

/** A field given as a value or as a reference path (`<name>` / `<name>Path`), e.g. MaxConcurrency. */
export function valueOrPath(owner: Json, name: string, data: Json, context: Context): Json {
  return owner[`${name}Path`] !== undefined ? readPath(owner[`${name}Path`], data, context) : owner[name];
}

/** Rejects the keys of a definition object that the interpreter does not implement. */
export function onlyKeys(owner: Json, where: string, known: readonly string[]): void {
  const unknown = Object.keys(owner ?? {}).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new UnsupportedDefinition(`${where} field(s) ${unknown.join(', ')}`);
}
