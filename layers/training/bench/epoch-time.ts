/**
 * Seconds per epoch of each model on random data at the real subset sizes, batch 64 (train
 * pass and validation pass timed separately). Not a test. Run from the repository root:
 *   npx tsx layers/training/bench/epoch-time.ts [--epochs N] [--batch-norm fused|plain]
 *     [--onednn true|false] [--models simple_mlp,small_cnn,deeper_cnn] [--optimizer adam]
 *     [--batch 64] [--augmentation] [--profile]
 */
import * as tf from '@tensorflow/tfjs-node';
import { parseArgs } from 'node:util';
import { listTasks, trainingConfigSchema } from '../../core/src';
import { getDatasetSpec, type DatasetName, type TaskData } from '../../datasets/src';
import { createTfjsTrainerFactory } from '../src';
import type { BatchNormKernels } from '../src/ops/batch-norm';
import { oneDnnKernelsAvailable } from '../src/ops/kernel-probe';
import { installKernelProfiler } from './kernel-profile';

const RUNS = listTasks().map((task) => ({
  taskId: task.task_id,
  model: task.model_type,
  dataset: task.dataset_name,
  train: task.subset.train,
  val: task.subset.val,
  seed: task.seed,
}));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      epochs: { type: 'string', default: '3' },
      'batch-norm': { type: 'string', default: 'fused' },
      onednn: { type: 'string', default: String(oneDnnKernelsAvailable()) },
      models: { type: 'string', default: RUNS.map((r) => r.model).join(',') },
      optimizer: { type: 'string', default: 'adam' },
      batch: { type: 'string', default: '64' },
      augmentation: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
    },
  });
  const profiler = values.profile ? installKernelProfiler() : null;
  const epochs = Number(values.epochs);
  const batchNorm = values['batch-norm'] as BatchNormKernels;
  const oneDnn = values.onednn === 'true';
  console.log(`tfjs-node ${tf.version['tfjs-node']}, backend ${tf.getBackend()}, batch norm ${batchNorm}, labelled oneDNN kernels ${oneDnn}, ${epochs} epochs after 1 warm-up`);
  for (const run of RUNS.filter((r) => values.models.split(',').includes(r.model))) {
    const data = randomTaskData(run.dataset, run.train, run.val);
    const factory = createTfjsTrainerFactory({ loadTaskData: async () => data, batchNorm, oneDnn });
    const trainer = await factory.create({ taskId: run.taskId, seed: run.seed });
    const config = trainingConfigSchema.parse({
      optimizer: values.optimizer, batch_size: Number(values.batch), augmentation: values.augmentation,
    });
    await trainer.buildModel(config);
    const train: number[] = [];
    const val: number[] = [];
    for (let e = 0; e <= epochs; e++) {
      const t = await trainer.trainEpoch(config.learning_rate);
      if (e > 0) profiler?.report(Math.ceil(run.train / config.batch_size), `train batch (${run.model})`);
      const v = await trainer.evaluate();
      profiler?.report(1, 'val pass');
      if (e > 0) {
        train.push(t.seconds);
        val.push(v.seconds);
      }
    }
    trainer.dispose();
    console.log(`${run.model.padEnd(11)} ${String(run.train).padStart(5)} train / ${run.val} val, batch ${config.batch_size}: ` +
      `train pass median ${median(train).toFixed(3)} s [${train.map((s) => s.toFixed(2)).join(' ')}], ` +
      `val pass median ${median(val).toFixed(3)} s`);
  }
}

/** Random bytes and labels in a task's shape (the values do not affect timing). */
function randomTaskData(dataset: DatasetName, trainCount: number, valCount: number): TaskData {
  const { channels, height, width } = getDatasetSpec(dataset);
  let state = 12345;
  const byte = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 24;
  };
  const split = (count: number) => ({
    images: Uint8Array.from({ length: count * channels * height * width }, byte),
    labels: Uint8Array.from({ length: count }, () => byte() % 10),
    count,
  });
  return { dataset, channels, height, width, train: split(trainCount), val: split(valCount) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
