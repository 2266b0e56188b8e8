import { createHash } from 'node:crypto';
import { callSha256, canonicalJson } from '../../layers/episodes/src';

/**
 * A call's identity decides whether a repeated request_id is a duplicate (replayed) or a
 * conflict (refused): equal calls must hash equally whatever their key order, and calls
 * that differ in any argument must not.
 */

describe('canonicalJson', () => {
  it('writes scalars as JSON does, and undefined or a function as null', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(3.5)).toBe('3.5');
    expect(canonicalJson('ab')).toBe('"ab"');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson(() => 1)).toBe('null');
  });

  it('sorts object keys at every level, whatever order they were written in', () => {
    const keys = ['e', 'b', 'd', 'a', 'c', 'g', 'f'];
    const expected = `{${[...keys].sort().map((k) => `"${k}":{"x":1,"y":2}`).join(',')}}`;
    for (const order of [keys, [...keys].reverse(), [...keys].sort(), [...keys].sort().reverse()]) {
      const value = Object.fromEntries(order.map((k) => [k, { y: 2, x: 1 }]));
      expect(canonicalJson(value)).toBe(expected);
    }
  });

  it('keeps array order, writes holes and undefined items as null, and canonicalises items', () => {
    expect(canonicalJson([3, undefined, { b: 1, a: [2, 1] }, 'z'])).toBe('[3,null,{"a":[2,1],"b":1},"z"]');
    expect(canonicalJson([1, , 2])).toBe(JSON.stringify([1, , 2]));
    expect(canonicalJson([])).toBe('[]');
  });

  it('leaves out keys whose value is undefined or a function, as JSON.stringify does', () => {
    expect(canonicalJson({ a: undefined, b: 1, c: () => 2, d: null })).toBe('{"b":1,"d":null}');
  });

  it('agrees with JSON.stringify on values whose keys are already sorted', () => {
    const value = { a: [1, 'two', { c: null, d: false }], b: { e: -0.25 } };
    expect(canonicalJson(value)).toBe(JSON.stringify(value));
  });
});

describe('callSha256', () => {
  const hash = (value: unknown) => callSha256(value as Parameters<typeof callSha256>[0]);

  it('is the SHA-256 of the canonical {arguments, tool} object', () => {
    const canonical = '{"arguments":{"num_epochs":2},"tool":"run_epochs"}';
    expect(hash({ tool: 'run_epochs', arguments: { num_epochs: 2 } })).toBe(createHash('sha256').update(canonical).digest('hex'));
  });

  it('treats absent and null arguments as {} (the core reads them so)', () => {
    const empty = hash({ tool: 'get_training_status', arguments: {} });
    expect(hash({ tool: 'get_training_status' })).toBe(empty);
    expect(hash({ tool: 'get_training_status', arguments: null })).toBe(empty);
    expect(hash({ tool: 'get_training_status', arguments: undefined })).toBe(empty);
  });

  it('does not depend on key order, and does depend on every argument and on the tool', () => {
    const a = hash({ tool: 'configure_training', arguments: { optimizer: 'adam', lr: 0.01 } });
    expect(hash({ arguments: { lr: 0.01, optimizer: 'adam' }, tool: 'configure_training' })).toBe(a);
    expect(hash({ tool: 'configure_training', arguments: { optimizer: 'adam', lr: 0.02 } })).not.toBe(a);
    expect(hash({ tool: 'configure_training', arguments: { optimizer: 'adam' } })).not.toBe(a);
    expect(hash({ tool: 'run_epochs', arguments: { optimizer: 'adam', lr: 0.01 } })).not.toBe(a);
  });
});
