/**
 * A small interpreter of Amazon States Language, for the states a definition of this app uses:
 * Task (a Lambda ARN as Resource, or arn:aws:states:::lambda:invoke with Parameters),
 * Map (ItemsPath, ItemSelector / Parameters, ItemProcessor / Iterator, MaxConcurrency),
 * Choice (BooleanEquals, StringEquals, NumericEquals, IsPresent, IsNull, And/Or/Not),
 * Pass, Succeed and Fail, with InputPath, Parameters, ResultSelector, ResultPath, OutputPath,
 * Retry (attempt counting only: no waiting between attempts) and Catch. JSONPath is the
 * reference-path subset ASL allows there ($, $$, .field, [index]). No engine library is
 * installed (package-lock has none) and none is small; anything else in a definition throws
 * "unsupported", so a definition the harness cannot run fails the test instead of passing it.
 */
export interface TaskInvoker {
  /** Invokes a Lambda function (ARN or name) with a payload; resolves with its result or throws a StatesError. */
  (functionArn: string, payload: unknown): Promise<unknown>;
}

export class StatesError extends Error {
  constructor(
    readonly error: string,
    override readonly cause: string,
  ) {
    super(`${error}: ${cause}`);
  }
}

interface Context {
  Execution: { Id: string; Name: string; StartTime: string; Input: unknown };
  State?: { Name: string; EnteredTime: string };
  Map?: { Item: { Index: number; Value: unknown } };
}

export interface ExecutionTrace {
  /** Every state entered, in order (Map iterations included, as `Map/State`). */
  states: string[];
}

type Json = any;

function readPath(path: string, data: Json, context: Context): Json {
  const [root, rest] = path.startsWith('$$') ? [context as Json, path.slice(2)] : path.startsWith('$') ? [data, path.slice(1)] : [undefined, null];
  if (rest === null) throw new StatesError('States.Runtime', `unsupported path ${path}`);
  let value = root;
  for (const m of rest.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)) {
    const key = m[1] ?? Number(m[2]);
    if (value === null || typeof value !== 'object' || !(key in value)) throw new StatesError('States.Runtime', `path ${path} does not exist in the input`);
    value = value[key];
  }
  return value;
}

function writePath(path: string | null | undefined, data: Json, result: Json): Json {
  if (path === null) return data;
  if (path === undefined || path === '$') return result;
  const keys = [...path.slice(1).matchAll(/\.([^.[\]]+)/g)].map((m) => m[1]!);
  const out = structuredClone(data ?? {});
  let target = out;
  for (const key of keys.slice(0, -1)) target = target[key] ??= {};
  target[keys[keys.length - 1]!] = result;
  return out;
}

function applyTemplate(template: Json, data: Json, context: Context): Json {
  if (Array.isArray(template)) return template.map((t) => applyTemplate(t, data, context));
  if (template === null || typeof template !== 'object') return template;
  return Object.fromEntries(
    Object.entries(template).map(([key, value]) => {
      if (!key.endsWith('.$')) return [key, applyTemplate(value, data, context)];
      if (typeof value !== 'string' || !value.startsWith('$')) throw new StatesError('States.Runtime', `unsupported (intrinsic function?) ${key}: ${JSON.stringify(value)}`);
      return [key.slice(0, -2), readPath(value, data, context)];
    }),
  );
}

const selectInput = (state: Json, data: Json, context: Context) => (state.InputPath === null ? {} : state.InputPath ? readPath(state.InputPath, data, context) : data);
const selectOutput = (state: Json, data: Json, context: Context) => (state.OutputPath === null ? {} : state.OutputPath ? readPath(state.OutputPath, data, context) : data);

function choiceMatches(rule: Json, data: Json, context: Context): boolean {
  if (rule.And) return rule.And.every((r: Json) => choiceMatches(r, data, context));
  if (rule.Or) return rule.Or.some((r: Json) => choiceMatches(r, data, context));
  if (rule.Not) return !choiceMatches(rule.Not, data, context);
  let value: Json;
  let present = true;
  try {
    value = readPath(rule.Variable, data, context);
  } catch {
    present = false;
  }
  if ('IsPresent' in rule) return present === rule.IsPresent;
  if (!present) return false;
  if ('BooleanEquals' in rule) return value === rule.BooleanEquals;
  if ('StringEquals' in rule) return value === rule.StringEquals;
  if ('NumericEquals' in rule) return value === rule.NumericEquals;
  if ('IsNull' in rule) return (value === null) === rule.IsNull;
  throw new StatesError('States.Runtime', `unsupported Choice rule ${JSON.stringify(rule)}`);
}

const errorMatches = (names: string[], error: string) => names.includes(error) || (names.includes('States.ALL') && error !== 'States.Runtime');

async function withRetry<T>(state: Json, run: () => Promise<T>): Promise<T> {
  const attempts = new Map<Json, number>();
  for (;;) {
    try {
      return await run();
    } catch (error) {
      const e = error instanceof StatesError ? error : new StatesError('States.TaskFailed', String(error));
      const retrier = (state.Retry ?? []).find((r: Json) => errorMatches(r.ErrorEquals, e.error));
      const used = attempts.get(retrier) ?? 0;
      if (!retrier || used >= (retrier.MaxAttempts ?? 3)) throw e;
      attempts.set(retrier, used + 1);
    }
  }
}

async function runTask(state: Json, input: Json, invoke: TaskInvoker): Promise<Json> {
  const resource = String(state.Resource);
  if (resource === 'arn:aws:states:::lambda:invoke') {
    const { FunctionName, Payload } = input;
    return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: await invoke(FunctionName, Payload) };
  }
  if (/^arn:aws:lambda:/.test(resource)) return invoke(resource, input);
  throw new StatesError('States.Runtime', `unsupported Task resource ${resource}`);
}

async function runMap(state: Json, input: Json, context: Context, invoke: TaskInvoker, trace: ExecutionTrace, prefix: string): Promise<Json> {
  const items = state.ItemsPath ? readPath(state.ItemsPath, input, context) : input;
  if (!Array.isArray(items)) throw new StatesError('States.Runtime', `${state.ItemsPath} is not an array`);
  const processor = state.ItemProcessor ?? state.Iterator;
  const selector = state.ItemSelector ?? state.Parameters;
  const results: Json[] = new Array(items.length);
  const limit = state.MaxConcurrency > 0 ? state.MaxConcurrency : items.length || 1;
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const itemContext: Context = { ...context, Map: { Item: { Index: index, Value: items[index] } } };
      const itemInput = selector ? applyTemplate(selector, input, itemContext) : items[index];
      results[index] = await runMachine(processor, itemInput, itemContext, invoke, trace, `${prefix}/`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, Math.max(1, items.length)) }, worker));
  return results;
}

async function runState(name: string, state: Json, data: Json, context: Context, invoke: TaskInvoker, trace: ExecutionTrace, prefix: string): Promise<{ output: Json; next: string | null }> {
  trace.states.push(`${prefix}${name}`);
  const ctx: Context = { ...context, State: { Name: name, EnteredTime: new Date().toISOString() } };
  const after = (output: Json) => ({ output: selectOutput(state, output, ctx), next: state.End ? null : (state.Next as string) });
  switch (state.Type) {
    case 'Pass': {
      const input = selectInput(state, data, ctx);
      const result = 'Result' in state ? state.Result : state.Parameters ? applyTemplate(state.Parameters, input, ctx) : input;
      return after(writePath(state.ResultPath, data, result));
    }
    case 'Succeed':
      return { output: selectOutput(state, selectInput(state, data, ctx), ctx), next: null };
    case 'Fail':
      throw new StatesError(state.Error ?? 'States.Fail', state.Cause ?? '');
    case 'Choice': {
      const input = selectInput(state, data, ctx);
      const chosen = (state.Choices as Json[]).find((rule) => choiceMatches(rule, input, ctx));
      const target = chosen?.Next ?? state.Default;
      if (!target) throw new StatesError('States.NoChoiceMatched', name);
      return { output: selectOutput(state, input, ctx), next: target };
    }
    case 'Task':
    case 'Map': {
      const input = selectInput(state, data, ctx);
      try {
        const effective = state.Type === 'Task' && state.Parameters ? applyTemplate(state.Parameters, input, ctx) : input;
        let result =
          state.Type === 'Task' ? await withRetry(state, () => runTask(state, effective, invoke)) : await withRetry(state, () => runMap(state, input, ctx, invoke, trace, `${prefix}${name}`));
        if (state.ResultSelector) result = applyTemplate(state.ResultSelector, result, ctx);
        return after(writePath(state.ResultPath, data, result));
      } catch (error) {
        const e = error instanceof StatesError ? error : new StatesError('States.TaskFailed', String(error));
        const catcher = (state.Catch ?? []).find((c: Json) => errorMatches(c.ErrorEquals, e.error));
        if (!catcher) throw e;
        return { output: writePath(catcher.ResultPath, data, { Error: e.error, Cause: e.cause }), next: catcher.Next };
      }
    }
    default:
      throw new StatesError('States.Runtime', `unsupported state type ${state.Type} (${name})`);
  }
}

async function runMachine(machine: Json, input: Json, context: Context, invoke: TaskInvoker, trace: ExecutionTrace, prefix = ''): Promise<Json> {
  let name: string | null = machine.StartAt;
  let data = input;
  while (name !== null) {
    const state = machine.States[name];
    if (!state) throw new StatesError('States.Runtime', `no state ${name}`);
    const { output, next } = await runState(name, state, data, context, invoke, trace, prefix);
    data = output;
    name = next;
  }
  return data;
}

/** Runs an execution of the definition to its end; a failure rejects with the StatesError. */
export async function runExecution(
  definition: Json,
  input: Json,
  options: { name: string; startTime: Date; invoke: TaskInvoker; stateMachineArn: string },
): Promise<{ output: Json; trace: ExecutionTrace }> {
  const trace: ExecutionTrace = { states: [] };
  const context: Context = {
    Execution: { Id: `${options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${options.name}`, Name: options.name, StartTime: options.startTime.toISOString(), Input: input },
  };
  const output = await runMachine(definition, input, context, options.invoke, trace);
  return { output, trace };
}

/** The paths (as the trace names them) of every Task state of a definition, Map processors included. */
export function taskStates(machine: Json, prefix = ''): string[] {
  return Object.entries(machine.States as Record<string, Json>).flatMap(([name, state]) => {
    if (state.Type === 'Task') return [`${prefix}${name}`];
    const processor = state.ItemProcessor ?? state.Iterator;
    return state.Type === 'Map' && processor ? taskStates(processor, `${prefix}${name}/`) : [];
  });
}
