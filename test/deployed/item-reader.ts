import { applyTemplate, type Context, type Json, onlyKeys, StatesError, UnsupportedDefinition, valueOrPath } from './asl-data';

/**
 * A Distributed Map's ItemReader (JSONPath): one S3 object read with s3:getObject and
 * parsed as ReaderConfig.InputType says: JSONL (one item per non-empty line) or JSON (an
 * array). MaxItems / MaxItemsPath keep the first items. CSV, MANIFEST, PARQUET, an S3
 * listing (no InputType) and VersionId are not implemented.
 */
export interface StatesS3 {
  getObject(bucket: string, key: string): Promise<string>;
  putObject(bucket: string, key: string, body: string): Promise<void>;
}

const GET_OBJECT = 'arn:aws:states:::s3:getObject';

function parseItems(text: string, inputType: string): Json[] {
  if (inputType === 'JSONL') {
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line, i) => {
        try {
          return JSON.parse(line);
        } catch {
          throw new StatesError('States.ItemReaderFailed', `line ${i + 1} is not JSON`);
        }
      });
  }
  let items: Json;
  try {
    items = JSON.parse(text);
  } catch {
    throw new StatesError('States.ItemReaderFailed', 'the object is not JSON');
  }
  if (!Array.isArray(items)) throw new StatesError('States.ItemReaderFailed', 'the JSON object is not an array');
  return items;
}

export async function readItems(reader: Json, input: Json, context: Context, s3: StatesS3 | undefined): Promise<Json[]> {
  onlyKeys(reader, 'ItemReader', ['Resource', 'ReaderConfig', 'Parameters']);
  onlyKeys(reader.ReaderConfig, 'ItemReader.ReaderConfig', ['InputType', 'MaxItems', 'MaxItemsPath']);
  onlyKeys(reader.Parameters, 'ItemReader.Parameters', ['Bucket', 'Bucket.$', 'Key', 'Key.$']);
  const inputType = reader.ReaderConfig?.InputType;
  if (reader.Resource !== GET_OBJECT || (inputType !== 'JSONL' && inputType !== 'JSON')) {
    throw new UnsupportedDefinition(`ItemReader ${reader.Resource} with InputType ${inputType}`);
  }
  if (!s3) throw new UnsupportedDefinition('ItemReader without an S3 given to runExecution');
  const { Bucket, Key } = applyTemplate(reader.Parameters, input, context);
  let text: string;
  try {
    text = await s3.getObject(Bucket, Key);
  } catch (error) {
    throw new StatesError('States.ItemReaderFailed', `s3://${Bucket}/${Key}: ${String(error)}`);
  }
  const items = parseItems(text, inputType);
  const max = valueOrPath(reader.ReaderConfig, 'MaxItems', input, context);
  return max > 0 ? items.slice(0, max) : items;
}
