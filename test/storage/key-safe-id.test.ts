import { KEY_SAFE_ID_MAX_LENGTH, stepBodySchema } from '../../layers/core/src';
import { checkpointPrefix, isValidId } from '../../layers/storage/src';

/** Ids on both sides of every rule of a key-safe id. */
const IDS = [
  'a',
  'tenant-a',
  'R1._:@=+-',
  'x'.repeat(KEY_SAFE_ID_MAX_LENGTH),
  'x'.repeat(KEY_SAFE_ID_MAX_LENGTH + 1),
  '',
  '-leading-dash',
  '.hidden',
  'has#hash',
  'has/slash',
  'has space',
  'é',
];

describe('a key-safe id is one fact: what the store keys by is what a request_id may be', () => {
  it('isValidId: letters and digits first, then key-safe characters, never # or /, at most 128', () => {
    expect(IDS.filter(isValidId)).toEqual(['a', 'tenant-a', 'R1._:@=+-', 'x'.repeat(KEY_SAFE_ID_MAX_LENGTH)]);
  });

  it("the wire contract accepts exactly the request_ids the store can key a step by", () => {
    for (const id of IDS) {
      const accepted = stepBodySchema.safeParse({ tool: 'get_training_status', request_id: id }).success;
      expect({ id, accepted }).toEqual({ id, accepted: isValidId(id) });
    }
  });

  it('checkpoint prefixes are built from key-safe ids only', () => {
    expect(checkpointPrefix('tenant-a', 'ep-1')).toBe('checkpoints/tenant-a/ep-1/');
    for (const id of IDS.filter((id) => !isValidId(id))) expect(() => checkpointPrefix('tenant-a', id)).toThrow('cannot be part of a storage key');
  });
});
