import { createHash } from 'node:crypto';
import { CHECKPOINT_VERSION, CheckpointError } from '../../layers/training/src';
import { decodeCheckpoint, encodeCheckpoint, type TrainerSnapshot } from '../../layers/training/src/checkpoint';
import { TOY_TASKS } from './toy-data';
import { config, specOf, toyFactory } from './trainer-helpers';

const TASK = TOY_TASKS[1];

/** After one epoch kept as the best, and (`epochsAfterBest`) more epochs that were not. */
async function trainedCheckpoint(epochsAfterBest = 1): Promise<Uint8Array> {
  const trainer = await toyFactory(64, 32).factory.create(specOf(TASK));
  await trainer.buildModel(config({ optimizer: 'sgd', batch_size: 32, dropout: 0.2, augmentation: true }));
  await trainer.trainEpoch(0.01);
  await trainer.evaluate();
  await trainer.keepBestWeights();
  for (let e = 0; e < epochsAfterBest; e++) await trainer.trainEpoch(0.01);
  const blob = await trainer.saveCheckpoint();
  trainer.dispose();
  return blob;
}

const tensorOf = (s: TrainerSnapshot, name: string) => s.model!.tensors.find((t) => t.name === name)!;

/** The blob as format version 1 wrote it: no bestIsCurrent in the header (its best weights, if any, stored). */
function asVersion1(blob: Uint8Array): Uint8Array {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const headerBytes = view.getUint32(12, true);
  const header = JSON.parse(Buffer.from(blob.subarray(16, 16 + headerBytes)).toString('utf8'));
  expect(header.model.bestIsCurrent).toBe(false);
  delete header.model.bestIsCurrent;
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Buffer.alloc((json.length + 3) & ~3, 0x20);
  json.copy(padded);
  const preamble = Buffer.alloc(16);
  Buffer.from(blob.subarray(0, 8)).copy(preamble);
  preamble.writeUInt32LE(1, 8);
  preamble.writeUInt32LE(padded.length, 12);
  const body = Buffer.concat([preamble, padded, blob.subarray(16 + headerBytes, blob.length - 32)]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

function expectRejected(blob: Uint8Array, code: string, message: RegExp, spec = specOf(TASK)): Promise<void> {
  return toyFactory().factory.restore(spec, blob).then(
    () => {
      throw new Error('restore accepted a bad checkpoint');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(CheckpointError);
      expect((e as CheckpointError).code).toBe(code);
      expect((e as Error).message).toMatch(message);
    },
  );
}

describe('checkpoint format', () => {
  let blob: Uint8Array;
  beforeAll(async () => {
    blob = await trainedCheckpoint();
  });

  it('holds weights, BN statistics, optimizer slots, best weights and RNG states in one versioned blob', () => {
    expect(Buffer.from(blob.subarray(0, 8)).toString('latin1')).toBe('MLTRCKPT');
    expect(new DataView(blob.buffer, blob.byteOffset).getUint32(8, true)).toBe(CHECKPOINT_VERSION);
    const snapshot = decodeCheckpoint(blob, specOf(TASK));
    expect(snapshot.modelKind).toBe('small_cnn');
    expect(snapshot.model!.optimizer.kind).toBe('sgd');
    expect(snapshot.model!.optimizer.steps).toMatchObject({ 'features.0.weight': 4, 'classifier.4.bias': 4 });
    expect(snapshot.model!.config.dropout).toBe(0.2);
    expect(snapshot.augmentation).toEqual({ enabled: true, strength: 0.5 });
    const names = snapshot.model!.tensors.map((t) => t.name);
    expect(names).toContain('param/features.0.weight');
    expect(names).toContain('optimizer/momentum_buffer/classifier.4.bias');
    expect(names).toContain('best/param/classifier.1.weight');
    expect(snapshot.model!.bestIsCurrent).toBe(false);
    expect(snapshot.model!.tensors.find((t) => t.name === 'param/features.0.weight')!.shape).toEqual([3, 3, 1, 32]);
    expect(snapshot.rng.shuffler).not.toBeNull();
    expect(snapshot.intraOpThreads).toBeGreaterThan(0);
  });

  it('stores best weights equal to the current ones once, and restores them as the current ones', async () => {
    const bestLast = await trainedCheckpoint(0);
    const snapshot = decodeCheckpoint(bestLast, specOf(TASK));
    expect(snapshot.model!.bestIsCurrent).toBe(true);
    expect(snapshot.model!.tensors.filter((t) => t.name.startsWith('best/'))).toEqual([]);
    const bestBytes = decodeCheckpoint(blob, specOf(TASK)).model!.tensors.filter((t) => t.name.startsWith('best/')).reduce((n, t) => n + t.data.byteLength, 0);
    expect(bestLast.length).toBeLessThan(blob.length - bestBytes + 1024);

    const { factory } = toyFactory(64, 32);
    const restored = await factory.restore(specOf(TASK), bestLast);
    expect(Buffer.from(await restored.saveCheckpoint()).equals(Buffer.from(bestLast))).toBe(true);
    await restored.trainEpoch(0.01); // moves the weights, not the best ones
    const after = decodeCheckpoint(await restored.saveCheckpoint(), specOf(TASK));
    restored.dispose();
    expect(after.model!.bestIsCurrent).toBe(false);
    for (const name of ['param/features.0.weight', 'param/classifier.1.bias', 'param/classifier.4.bias']) {
      expect(Buffer.from(tensorOf(after, `best/${name}`).data.buffer).equals(Buffer.from(tensorOf(snapshot, name).data.buffer))).toBe(true);
      expect(Buffer.from(tensorOf(after, name).data.buffer).equals(Buffer.from(tensorOf(snapshot, name).data.buffer))).toBe(false);
    }
  });

  it('reads format version 1 (no bestIsCurrent): the same trainer, saved again as the current version', async () => {
    const v1 = asVersion1(blob);
    expect(new DataView(v1.buffer, v1.byteOffset).getUint32(8, true)).toBe(1);
    const snapshot = decodeCheckpoint(v1, specOf(TASK));
    expect(snapshot.model!.bestIsCurrent).toBe(false);
    const { factory } = toyFactory(64, 32);
    const fromV1 = await factory.restore(specOf(TASK), v1);
    const fromCurrent = await factory.restore(specOf(TASK), blob);
    expect(Buffer.from(await fromV1.saveCheckpoint()).equals(Buffer.from(blob))).toBe(true);
    expect((await fromV1.trainEpoch(0.01)).loss).toBe((await fromCurrent.trainEpoch(0.01)).loss);
    fromV1.dispose();
    fromCurrent.dispose();
  });

  it('refuses a current-version header without bestIsCurrent', async () => {
    const v1 = asVersion1(blob);
    const relabelled = Uint8Array.from(v1);
    new DataView(relabelled.buffer).setUint32(8, CHECKPOINT_VERSION, true);
    relabelled.set(createHash('sha256').update(relabelled.subarray(0, relabelled.length - 32)).digest(), relabelled.length - 32);
    await expectRejected(relabelled, 'invalid', /lacks model.bestIsCurrent/);
  });

  it('re-encodes a decoded checkpoint to the same bytes', () => {
    expect(Buffer.from(encodeCheckpoint(decodeCheckpoint(blob, specOf(TASK)))).equals(Buffer.from(blob))).toBe(true);
  });

  it('rejects any flipped byte (header, tensor data or digest)', async () => {
    const positions = [0, 9, 13, 20, 100, Math.floor(blob.length / 2), blob.length - 40, blob.length - 1];
    for (const at of positions) {
      const bad = Uint8Array.from(blob);
      bad[at]! ^= 0x10;
      const code = at < 8 ? 'foreign' : at < 12 ? 'unsupported_version' : 'corrupt';
      await expectRejected(bad, code, /./);
    }
  });

  it('rejects a truncated checkpoint', async () => {
    await expectRejected(blob.subarray(0, blob.length - 1), 'corrupt', /corrupt or truncated/);
    await expectRejected(blob.subarray(0, 1000), 'corrupt', /corrupt or truncated/);
    await expectRejected(blob.subarray(0, 20), 'truncated', /truncated/);
    await expectRejected(new Uint8Array(0), 'truncated', /truncated/);
  });

  it('rejects foreign blobs, other versions and other tasks', async () => {
    await expectRejected(new TextEncoder().encode('{"not":"a checkpoint"}'.padEnd(80)), 'foreign', /wrong magic/);
    const otherVersion = Uint8Array.from(blob);
    new DataView(otherVersion.buffer).setUint32(8, CHECKPOINT_VERSION + 1, true);
    await expectRejected(otherVersion, 'unsupported_version', new RegExp(`version ${CHECKPOINT_VERSION + 1} is not supported`));
    await expectRejected(blob, 'wrong_task', /belongs to task medium_fashion/, specOf(TOY_TASKS[0]));
    await expectRejected(blob, 'wrong_task', /seed 123/, { taskId: TASK.taskId, seed: 7 });
  });

  it('rejects optimizer step counts that differ between parameters (every batch steps every parameter)', async () => {
    const snapshot = decodeCheckpoint(blob, specOf(TASK));
    snapshot.model!.optimizer.steps['classifier.4.bias'] = 1;
    await expectRejected(encodeCheckpoint(snapshot), 'invalid', /step counts differ \(4, 1\)/);
  });

  it('checkpoints and restores a trainer that has no model yet (RNG states only)', async () => {
    const { factory, loads } = toyFactory(64, 32);
    const empty = await factory.create(specOf(TASK));
    await empty.setAugmentation({ enabled: true, strength: 0.25 });
    const saved = await empty.saveCheckpoint();
    empty.dispose();
    const snapshot = decodeCheckpoint(saved, specOf(TASK));
    expect(snapshot.model).toBeNull();
    expect(snapshot.rng.shuffler).toBeNull();
    expect(snapshot.augmentation).toEqual({ enabled: true, strength: 0.25 });
    expect(loads).toEqual([]); // no data needed to checkpoint an empty trainer

    const restored = await factory.restore(specOf(TASK), saved);
    await expect(restored.trainEpoch(0.01)).rejects.toThrow(/no model yet/);
    await restored.buildModel(config({ batch_size: 32 }));
    const fresh = await factory.create(specOf(TASK));
    await fresh.buildModel(config({ batch_size: 32 }));
    // Same RNG position, same initial weights and same first epoch.
    expect(await restored.trainEpoch(0.01)).toMatchObject({ loss: (await fresh.trainEpoch(0.01)).loss });
    restored.dispose();
    fresh.dispose();
  });
});
