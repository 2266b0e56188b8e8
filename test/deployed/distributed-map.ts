import { randomUUID } from 'node:crypto';
import { applyTemplate, type Context, type Json, onlyKeys, readPath, StatesError, UnsupportedDefinition, valueOrPath } from './asl-data';
import { readItems, type StatesS3 } from './item-reader';
import { type ChildRun, mapResult, type MapRun } from './result-writer';

/**
 * A Map state in DISTRIBUTED mode (JSONPath), in the order the developer guide applies its
 * fields: items from the ItemReader (or ItemsPath), each through ItemSelector, grouped by
 * ItemBatcher (a child's input is `{"Items": [...], "BatchInput": ...}`), each group run as a
 * child execution of its own (its own $$.Execution and $$.StateMachine; Express or Standard,
 * retried only by its states' own Retry) with at most MaxConcurrency at once. Failed children
 * count their items against ToleratedFailureCount / ToleratedFailurePercentage (0 when neither
 * is given): past the threshold no further child starts and the state fails with
 * States.ExceedToleratedFailureThreshold, after the ResultWriter has written what ran.
 */
export interface DistributedMapRuntime {
  s3?: StatesS3;
  now(): Date;
  /** Runs the ItemProcessor as one child execution; rejects with its StatesError. */
  runChild(processor: Json, input: Json, context: Context): Promise<Json>;
  /** A call the Map Run makes with the state machine's role (states:StartExecution of each child). */
  record?(action: string, resource: string): void;
}

const MAP_FIELDS = ['Type', 'Comment', 'Next', 'End', 'InputPath', 'OutputPath', 'ResultPath', 'ResultSelector', 'Retry', 'Catch', 'ItemProcessor', 'ItemsPath', 'ItemSelector', 'MaxConcurrency'];
export const INLINE_MAP_FIELDS = [...MAP_FIELDS, 'Parameters', 'Iterator'];
const DISTRIBUTED_MAP_FIELDS = [
  ...MAP_FIELDS,
  'MaxConcurrencyPath',
  'ItemReader',
  'ItemBatcher',
  'ResultWriter',
  'Label',
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
];

export const isDistributed = (state: Json) => state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED';

interface Batch {
  input: Json;
  items: number;
}

function itemsOf(state: Json, input: Json, context: Context, s3: StatesS3 | undefined): Promise<Json[]> | Json[] {
  if (state.ItemReader !== undefined) {
    if (state.ItemsPath !== undefined) throw new UnsupportedDefinition('ItemsPath with an ItemReader');
    return readItems(state.ItemReader, input, context, s3);
  }
  const items = state.ItemsPath ? readPath(state.ItemsPath, input, context) : input;
  if (!Array.isArray(items)) throw new StatesError('States.Runtime', `${state.ItemsPath ?? '$'} is not an array`);
  return items;
}

function batches(batcher: Json, items: Json[], input: Json, context: Context): Batch[] {
  if (batcher === undefined) return items.map((item) => ({ input: item, items: 1 }));
  onlyKeys(batcher, 'ItemBatcher', ['MaxItemsPerBatch', 'MaxItemsPerBatchPath', 'BatchInput']);
  const size = valueOrPath(batcher, 'MaxItemsPerBatch', input, context);
  if (!Number.isInteger(size) || size <= 0) throw new UnsupportedDefinition(`ItemBatcher MaxItemsPerBatch ${JSON.stringify(size)}`);
  const batchInput = batcher.BatchInput === undefined ? {} : { BatchInput: applyTemplate(batcher.BatchInput, input, context) };
  const out: Batch[] = [];
  for (let i = 0; i < items.length; i += size) {
    const chunk = items.slice(i, i + size);
    out.push({ input: { Items: chunk, ...batchInput }, items: chunk.length });
  }
  return out;
}

function overThreshold(state: Json, input: Json, context: Context, failed: number, total: number): boolean {
  const count = valueOrPath(state, 'ToleratedFailureCount', input, context);
  const percentage = valueOrPath(state, 'ToleratedFailurePercentage', input, context);
  if (count === undefined && percentage === undefined) return failed > 0;
  return (count !== undefined && failed > count) || (percentage !== undefined && total > 0 && (failed / total) * 100 > percentage);
}

/** The Map Run's names, derived from the parent state machine's ARN as AWS derives them. */
function mapRunNames(stateMachineArn: string, label: string, executionType: string) {
  const [, partition, , region, account, , machine] = stateMachineArn.split(':');
  const base = `arn:${partition}:states:${region}:${account}`;
  const id = randomUUID();
  const childMachine = `${machine}/${label}`;
  return {
    mapRun: { arn: `${base}:mapRun:${childMachine}:${id}`, id } satisfies MapRun,
    childMachine,
    childMachineArn: `${base}:stateMachine:${childMachine}`,
    executionArn: (name: string) => `${base}:${executionType === 'EXPRESS' ? 'express' : 'execution'}:${childMachine}:${id}:${name}`,
  };
}

async function runChild(batch: Batch, processor: Json, names: ReturnType<typeof mapRunNames>, parentArn: string, rt: DistributedMapRuntime): Promise<ChildRun> {
  const name = randomUUID();
  const executionArn = names.executionArn(name);
  const startDate = rt.now();
  rt.record?.('states:StartExecution', parentArn);
  const context: Context = {
    Execution: { Id: executionArn, Name: name, StartTime: startDate.toISOString(), Input: batch.input },
    StateMachine: { Id: names.childMachineArn, Name: names.childMachine },
  };
  const run = { name, executionArn, stateMachineArn: names.childMachineArn, input: batch.input, startDate, items: batch.items };
  try {
    const output = await rt.runChild(processor, batch.input, context);
    return { ...run, stopDate: rt.now(), outcome: { ok: true, output } };
  } catch (error) {
    if (!(error instanceof StatesError) || error instanceof UnsupportedDefinition) throw error;
    return { ...run, stopDate: rt.now(), outcome: { ok: false, error: error.error, cause: error.cause } };
  }
}

export async function runDistributedMap(stateName: string, state: Json, input: Json, context: Context, rt: DistributedMapRuntime): Promise<Json> {
  onlyKeys(state, `Distributed Map ${stateName}`, DISTRIBUTED_MAP_FIELDS);
  const processor = state.ItemProcessor;
  onlyKeys(processor.ProcessorConfig, 'ItemProcessor.ProcessorConfig', ['Mode', 'ExecutionType']);
  const executionType = processor.ProcessorConfig.ExecutionType ?? 'STANDARD';
  if (!['STANDARD', 'EXPRESS'].includes(executionType)) throw new UnsupportedDefinition(`ExecutionType ${executionType}`);

  const items = (await itemsOf(state, input, context, rt.s3)).map((value, index) =>
    state.ItemSelector === undefined ? value : applyTemplate(state.ItemSelector, input, { ...context, Map: { Item: { Index: index, Value: value } } }),
  );
  const groups = batches(state.ItemBatcher, items, input, context);
  const names = mapRunNames(context.StateMachine.Id, state.Label ?? stateName, executionType);
  const limit = valueOrPath(state, 'MaxConcurrency', input, context) || groups.length;

  const children: ChildRun[] = new Array(groups.length);
  let failedItems = 0;
  let next = 0;
  const stopped = () => overThreshold(state, input, context, failedItems, items.length);
  const worker = async () => {
    while (next < groups.length && !stopped()) {
      const index = next++;
      const child = await runChild(groups[index]!, processor, names, context.StateMachine.Id, rt);
      children[index] = child;
      if (!child.outcome.ok) failedItems += child.items;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, groups.length) }, worker));

  const result = await mapResult(state.ResultWriter, children.filter(Boolean), names.mapRun, input, context, rt.s3);
  if (stopped()) {
    throw new StatesError('States.ExceedToleratedFailureThreshold', `${failedItems} of ${items.length} items failed in Map Run ${names.mapRun.arn}, more than ${stateName} tolerates`);
  }
  return result;
}
