import { CHECKPOINT_VERSION, CheckpointError } from '../../layers/training/src';
import { decodeCheckpoint, encodeCheckpoint } from '../../layers/training/src/checkpoint';
import { TOY_TASKS } from './toy-data';
import { config, specOf, toyFactory } from './trainer-helpers';

const TASK = TOY_TASKS[1];

async function trainedCheckpoint(): Promise<Uint8Array> {
  const trainer = await toyFactory(64, 32).factory.create(specOf(TASK));
  await trainer.buildModel(config({ optimizer: 'sgd', batch_size: 32, dropout: 0.2, augmentation: true }));
  await trainer.trainEpoch(0.01);
  await trainer.evaluate();
  await trainer.keepBestWeights();
  const blob = await trainer.saveCheckpoint();
  trainer.dispose();
  return blob;
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
    expect(snapshot.model!.optimizer.steps).toMatchObject({ 'features.0.weight': 2, 'classifier.4.bias': 2 });
    expect(snapshot.model!.config.dropout).toBe(0.2);
    expect(snapshot.augmentation).toEqual({ enabled: true, strength: 0.5 });
    const names = snapshot.model!.tensors.map((t) => t.name);
    expect(names).toContain('param/features.0.weight');
    expect(names).toContain('optimizer/momentum_buffer/classifier.4.bias');
    expect(names).toContain('best/param/classifier.1.weight');
    expect(snapshot.model!.tensors.find((t) => t.name === 'param/features.0.weight')!.shape).toEqual([3, 3, 1, 32]);
    expect(snapshot.rng.shuffler).not.toBeNull();
    expect(snapshot.intraOpThreads).toBeGreaterThan(0);
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
    await expectRejected(otherVersion, 'unsupported_version', /version 2 is not supported/);
    await expectRejected(blob, 'wrong_task', /belongs to task medium_fashion/, specOf(TOY_TASKS[0]));
    await expectRejected(blob, 'wrong_task', /seed 123/, { taskId: TASK.taskId, seed: 7 });
  });

  it('rejects optimizer step counts that differ between parameters (every batch steps every parameter)', async () => {
    const snapshot = decodeCheckpoint(blob, specOf(TASK));
    snapshot.model!.optimizer.steps['classifier.4.bias'] = 1;
    await expectRejected(encodeCheckpoint(snapshot), 'invalid', /step counts differ \(2, 1\)/);
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
