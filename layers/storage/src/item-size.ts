/**
 * An upper bound of the size DynamoDB charges (and limits to 400 KB) for an item, computed
 * from the plain JavaScript value before it is marshalled. DynamoDB counts attribute names
 * and string values in UTF-8 bytes, a number as at most 21 bytes, booleans and nulls as 1,
 * and 3 bytes plus 1 per element for maps and lists. This estimate rounds every term up, so
 * an item it accepts is accepted by DynamoDB too.
 */
export const DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024;

const NUMBER_BYTES = 21;

export function estimateItemBytes(item: Record<string, unknown>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    total += Buffer.byteLength(name, 'utf8') + valueBytes(value);
  }
  return total;
}

function valueBytes(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'number' || typeof value === 'bigint') return NUMBER_BYTES;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return value.reduce((sum: number, v) => sum + 1 + valueBytes(v), 3);
  if (value instanceof Set) return [...value].reduce((sum: number, v) => sum + valueBytes(v), 0);
  if (typeof value === 'object') {
    let sum = 3;
    for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) continue;
      sum += 1 + Buffer.byteLength(name, 'utf8') + valueBytes(v);
    }
    return sum;
  }
  throw new TypeError(`estimateItemBytes: cannot store a ${typeof value}`);
}
