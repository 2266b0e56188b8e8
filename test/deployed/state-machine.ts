import { applyTemplate, type Context, type Json, readPath, StatesError, UnsupportedDefinition, writePath } from './asl-data';
import { INLINE_MAP_FIELDS, isDistributed, runDistributedMap } from './distributed-map';
import type { StatesS3 } from './item-reader';

/**
 * A small interpreter of Amazon States Language (JSONPath), for the states a definition of
 * this app uses: Task (a Lambda ARN as Resource, arn:aws:states:::lambda:invoke with
 * Parameters, or arn:aws:states:::states:startExecution), Map (inline: ItemsPath,
 * ItemSelector / Parameters, ItemProcessor / Iterator, MaxConcurrency; distributed: see
 * distributed-map.ts), Choice (BooleanEquals, StringEquals, NumericEquals, IsPresent, IsNull,
 * And/Or/Not), Pass, Succeed and Fail, with InputPath, Parameters, ResultSelector, ResultPath,
 * OutputPath, Retry (attempt counting only: no waiting between attempts) and Catch. No engine
 * library is installed (package-lock has none) and none is small; anything else in a
 * definition throws "unsupported" (UnsupportedDefinition), so a definition the harness cannot
 * run fails the test instead of passing it.
 */
export { StatesError, UnsupportedDefinition } from './asl-data';
export type { StatesS3 } from './item-reader';

export interface TaskInvoker {
  /** Invokes a Lambda function (ARN or name) with a payload; resolves with its result or throws a StatesError. */
  (functionArn: string, payload: unknown): Promise<unknown>;
}

/** StartExecution of a state machine (the Task arn:aws:states:::states:startExecution). */
export interface ExecutionStarter {
  /** `now` is the calling execution's clock (its start time plus the time it has run). */
  (stateMachineArn: string, input: unknown, options: { name?: string; now: Date }): Promise<{ executionArn: string; startDate: Date }>;
}

export interface ExecutionOptions {
  name: string;
  startTime: Date;
  invoke: TaskInvoker;
  stateMachineArn: string;
  /** The S3 a Distributed Map's ItemReader and ResultWriter use. */
  s3?: StatesS3;
  startExecution?: ExecutionStarter;
  /** Calls the service itself makes with the state machine's role (a Map Run's child StartExecution). */
  record?: (action: string, resource: string) => void;
}

export interface ExecutionTrace {
  /** Every state entered, in order (Map iterations and Map Run children included, as `Map/State`). */
  states: string[];
}

interface Runtime extends Omit<ExecutionOptions, 'name' | 'startTime' | 'stateMachineArn'> {
  trace: ExecutionTrace;
  /** The execution's clock: its start time plus the time it has run. */
  now(): Date;
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const START_EXECUTION = 'arn:aws:states:::states:startExecution';

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
  throw new UnsupportedDefinition(`Choice rule ${JSON.stringify(rule)}`);
}

const errorMatches = (names: string[], error: string) => names.includes(error) || (names.includes('States.ALL') && error !== 'States.Runtime');

/** What a failure is as States Language sees it; a definition the interpreter cannot run stays fatal. */
function asStatesError(error: unknown): StatesError {
  if (error instanceof UnsupportedDefinition) throw error;
  return error instanceof StatesError ? error : new StatesError('States.TaskFailed', String(error));
}

async function withRetry<T>(state: Json, run: () => Promise<T>): Promise<T> {
  const attempts = new Map<Json, number>();
  for (;;) {
    try {
      return await run();
    } catch (error) {
      const e = asStatesError(error);
      const retrier = (state.Retry ?? []).find((r: Json) => errorMatches(r.ErrorEquals, e.error));
      const used = attempts.get(retrier) ?? 0;
      if (!retrier || used >= (retrier.MaxAttempts ?? 3)) throw e;
      attempts.set(retrier, used + 1);
    }
  }
}

async function startExecution(parameters: Json, rt: Runtime): Promise<Json> {
  const { StateMachineArn, Input, Name, ...rest } = parameters;
  if (Object.keys(rest).length > 0) throw new UnsupportedDefinition(`startExecution parameter(s) ${Object.keys(rest).join(', ')}`);
  if (!rt.startExecution) throw new UnsupportedDefinition('states:startExecution without a startExecution given to runExecution');
  const started = await rt.startExecution(StateMachineArn, Input, { ...(Name === undefined ? {} : { name: Name }), now: rt.now() });
  // The service integration's response, as the StartExecution API gives it (StartDate in epoch milliseconds).
  return { ExecutionArn: started.executionArn, StartDate: started.startDate.getTime() };
}

async function runTask(state: Json, input: Json, rt: Runtime): Promise<Json> {
  const resource = String(state.Resource);
  if (resource === LAMBDA_INVOKE) {
    const { FunctionName, Payload } = input;
    return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: await rt.invoke(FunctionName, Payload) };
  }
  if (resource === START_EXECUTION) return startExecution(input, rt);
  if (/^arn:aws:lambda:/.test(resource)) return rt.invoke(resource, input);
  throw new UnsupportedDefinition(`Task resource ${resource}`);
}

async function runInlineMap(name: string, state: Json, input: Json, context: Context, rt: Runtime, prefix: string): Promise<Json> {
  const unknown = Object.keys(state).filter((key) => !INLINE_MAP_FIELDS.includes(key));
  if (unknown.length > 0) throw new UnsupportedDefinition(`field(s) ${unknown.join(', ')} of the inline Map ${name}`);
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
      results[index] = await runMachine(processor, itemInput, itemContext, rt, `${prefix}${name}/`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, Math.max(1, items.length)) }, worker));
  return results;
}

function runMap(name: string, state: Json, input: Json, context: Context, rt: Runtime, prefix: string): Promise<Json> {
  if (!isDistributed(state)) return runInlineMap(name, state, input, context, rt, prefix);
  const runChild = (processor: Json, childInput: Json, childContext: Context) => runMachine(processor, childInput, childContext, rt, `${prefix}${name}/`);
  return runDistributedMap(name, state, input, context, { s3: rt.s3, now: rt.now, runChild, record: rt.record });
}

async function runState(name: string, state: Json, data: Json, context: Context, rt: Runtime, prefix: string): Promise<{ output: Json; next: string | null }> {
  rt.trace.states.push(`${prefix}${name}`);
  if ((state.QueryLanguage ?? 'JSONPath') !== 'JSONPath' || state.Assign !== undefined) throw new UnsupportedDefinition(`QueryLanguage / Assign (variables) in ${name}`);
  const ctx: Context = { ...context, State: { Name: name, EnteredTime: rt.now().toISOString() } };
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
        let result = state.Type === 'Task' ? await withRetry(state, () => runTask(state, effective, rt)) : await withRetry(state, () => runMap(name, state, input, ctx, rt, prefix));
        if (state.ResultSelector) result = applyTemplate(state.ResultSelector, result, ctx);
        return after(writePath(state.ResultPath, data, result));
      } catch (error) {
        const e = asStatesError(error);
        const catcher = (state.Catch ?? []).find((c: Json) => errorMatches(c.ErrorEquals, e.error));
        if (!catcher) throw e;
        return { output: writePath(catcher.ResultPath, data, { Error: e.error, Cause: e.cause }), next: catcher.Next };
      }
    }
    default:
      throw new UnsupportedDefinition(`state type ${state.Type} (${name})`);
  }
}

async function runMachine(machine: Json, input: Json, context: Context, rt: Runtime, prefix = ''): Promise<Json> {
  if ((machine.QueryLanguage ?? 'JSONPath') !== 'JSONPath') throw new UnsupportedDefinition(`QueryLanguage ${machine.QueryLanguage}`);
  let name: string | null = machine.StartAt;
  let data = input;
  while (name !== null) {
    const state = machine.States[name];
    if (!state) throw new StatesError('States.Runtime', `no state ${name}`);
    const { output, next } = await runState(name, state, data, context, rt, prefix);
    data = output;
    name = next;
  }
  return data;
}

/** The ARN of an execution of a state machine (`…:stateMachine:<name>` → `…:execution:<name>:<execution>`). */
export const executionArn = (stateMachineArn: string, name: string) => `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/** Runs an execution of the definition to its end; a failure rejects with the StatesError. */
export async function runExecution(definition: Json, input: Json, options: ExecutionOptions): Promise<{ output: Json; trace: ExecutionTrace }> {
  const { name, startTime, stateMachineArn, ...services } = options;
  const trace: ExecutionTrace = { states: [] };
  const wallStart = Date.now();
  const rt: Runtime = { ...services, trace, now: () => new Date(startTime.getTime() + Date.now() - wallStart) };
  const context: Context = {
    Execution: { Id: executionArn(stateMachineArn, name), Name: name, StartTime: startTime.toISOString(), Input: input },
    StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').slice(6).join(':') },
  };
  const output = await runMachine(definition, input, context, rt);
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
