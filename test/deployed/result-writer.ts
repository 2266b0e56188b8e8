import { applyTemplate, type Context, type Json, onlyKeys, StatesError, UnsupportedDefinition } from './asl-data';
import type { StatesS3 } from './item-reader';

/**
 * A Distributed Map's results, as the Step Functions developer guide's ResultWriter page
 * describes them. Transformation NONE gives each child execution's record (ARN, name, input
 * and output as JSON strings, dates, status), COMPACT its output, FLATTEN its output with an
 * array spread into its elements; a failed child's record is always NONE's (with Error and
 * Cause). Exported to S3 (Resource arn:aws:states:::s3:putObject): one file per status,
 * `SUCCEEDED_0.json` / `FAILED_0.json` (a JSON array, or JSON Lines with OutputType JSONL),
 * then `manifest.json` listing them, under `<Prefix>/<map run id>/`; the state's result is then
 * the Map Run ARN and the manifest's location. Without an export, the records are the result.
 */
export interface ChildRun {
  name: string;
  executionArn: string;
  stateMachineArn: string;
  input: Json;
  startDate: Date;
  stopDate: Date;
  /** Items the child processed (a batch's size; 1 without ItemBatcher). */
  items: number;
  outcome: { ok: true; output: Json } | { ok: false; error: string; cause: string };
}

export interface MapRun {
  arn: string;
  id: string;
}

const PUT_OBJECT = 'arn:aws:states:::s3:putObject';
const TRANSFORMATIONS = ['NONE', 'COMPACT', 'FLATTEN'];

function executionRecord(child: ChildRun): Json {
  const common = {
    ExecutionArn: child.executionArn,
    Input: JSON.stringify(child.input),
    InputDetails: { Included: true },
    Name: child.name,
  };
  const dates = { StartDate: child.startDate.toISOString(), StateMachineArn: child.stateMachineArn };
  if (!child.outcome.ok) return { ...common, ...dates, Status: 'FAILED', StopDate: child.stopDate.toISOString(), Error: child.outcome.error, Cause: child.outcome.cause };
  return { ...common, Output: JSON.stringify(child.outcome.output), OutputDetails: { Included: true }, ...dates, Status: 'SUCCEEDED', StopDate: child.stopDate.toISOString() };
}

function records(children: ChildRun[], transformation: string): Json[] {
  return children.flatMap((child) => {
    if (!child.outcome.ok || transformation === 'NONE') return [executionRecord(child)];
    const output = child.outcome.output;
    return transformation === 'FLATTEN' && Array.isArray(output) ? output : [output];
  });
}

function writerConfig(writer: Json, exported: boolean): { transformation: string; outputType: string } {
  onlyKeys(writer.WriterConfig, 'ResultWriter.WriterConfig', ['Transformation', 'OutputType']);
  const transformation = writer.WriterConfig?.Transformation ?? (exported ? 'NONE' : 'COMPACT');
  const outputType = writer.WriterConfig?.OutputType ?? 'JSON';
  if (!TRANSFORMATIONS.includes(transformation) || !['JSON', 'JSONL'].includes(outputType)) throw new UnsupportedDefinition(`WriterConfig ${JSON.stringify(writer.WriterConfig)}`);
  if (!exported && outputType !== 'JSON') throw new UnsupportedDefinition('WriterConfig OutputType JSONL without an S3 export');
  return { transformation, outputType };
}

const serialize = (values: Json[], outputType: string) => (outputType === 'JSONL' ? values.map((v) => `${JSON.stringify(v)}\n`).join('') : JSON.stringify(values));

/** The Map state's result: the records themselves, or (exported) where the manifest is. */
export async function mapResult(writer: Json | undefined, children: ChildRun[], mapRun: MapRun, input: Json, context: Context, s3: StatesS3 | undefined): Promise<Json> {
  if (writer === undefined) return records(children, 'COMPACT');
  onlyKeys(writer, 'ResultWriter', ['Resource', 'Parameters', 'WriterConfig']);
  const exported = writer.Resource !== undefined || writer.Parameters !== undefined;
  const { transformation, outputType } = writerConfig(writer, exported);
  if (!exported) return records(children, transformation);
  onlyKeys(writer.Parameters, 'ResultWriter.Parameters', ['Bucket', 'Bucket.$', 'Prefix', 'Prefix.$']);
  if (writer.Resource !== PUT_OBJECT) throw new UnsupportedDefinition(`ResultWriter Resource ${writer.Resource}`);
  if (!s3) throw new UnsupportedDefinition('ResultWriter without an S3 given to runExecution');
  const { Bucket, Prefix = '' } = applyTemplate(writer.Parameters, input, context);
  const folder = `${Prefix}${Prefix === '' || Prefix.endsWith('/') ? '' : '/'}${mapRun.id}/`;
  const put = async (key: string, body: string) => {
    try {
      await s3.putObject(Bucket, key, body);
    } catch (error) {
      throw new StatesError('States.ResultWriterFailed', `s3://${Bucket}/${key}: ${String(error)}`);
    }
    return { Key: key, Size: Buffer.byteLength(body) };
  };
  const file = async (status: 'SUCCEEDED' | 'FAILED', ok: boolean) => {
    const own = children.filter((c) => c.outcome.ok === ok);
    return own.length === 0 ? [] : [await put(`${folder}${status}_0.json`, serialize(records(own, transformation), outputType))];
  };
  const manifest = { DestinationBucket: Bucket, MapRunArn: mapRun.arn, ResultFiles: { FAILED: await file('FAILED', false), PENDING: [], SUCCEEDED: await file('SUCCEEDED', true) } };
  const key = `${folder}manifest.json`;
  await put(key, JSON.stringify(manifest));
  return { MapRunArn: mapRun.arn, ResultWriterDetails: { Bucket, Key: key } };
}
