import type { BlobStore, CheckpointPointer } from '../../layers/storage/src';

/**
 * Seven ways a stored checkpoint object goes bad (issue 12): each maps the stored bytes and
 * another episode's checkpoint to the object's new bytes, or null to delete it.
 */
export const CORRUPTIONS: Record<string, (bytes: Uint8Array, foreign: Uint8Array) => Uint8Array | null> = {
  truncated: (b) => b.slice(0, Math.floor(b.byteLength / 2)),
  'flipped byte': (b) => {
    const copy = b.slice();
    copy[Math.floor(copy.byteLength / 2)] ^= 0xff;
    return copy;
  },
  empty: () => new Uint8Array(0),
  missing: () => null,
  'garbage of the right size': (b) => new Uint8Array(b.byteLength).fill(0x5a),
  'extra bytes': (b) => Buffer.concat([b, Buffer.from('\n')]),
  "another episode's checkpoint": (_b, foreign) => foreign,
};

/** Applies one corruption to the object a pointer names. */
export async function corruptCheckpoint(checkpoints: BlobStore, pointer: CheckpointPointer, mode: string, foreign: CheckpointPointer): Promise<void> {
  const next = CORRUPTIONS[mode]!(await checkpoints.getCheckpoint(pointer), await checkpoints.getCheckpoint(foreign));
  if (next === null) await checkpoints.delete(pointer.key);
  else await checkpoints.put(pointer.key, next);
}
