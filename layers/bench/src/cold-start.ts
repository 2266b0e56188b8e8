import { statSync } from 'node:fs';
import { getTask } from '../../core/src';
import { findDatasetFolder, findOfficialFile, getDatasetSpec, loadTaskData, subsetIndices, trainFileNames } from '../../datasets/src';

/**
 * What a training Lambda's first step does before it trains, timed in one fresh process:
 * loading tfjs-node (its first tensor op included), then per task decoding the subset from
 * the dataset's training files with no subset cache (a new container has none), and the
 * bytes of those files (what the container downloads from the datasets bucket first).
 * The cost model (layers/cloud/src/cost-model.ts) takes its init time from these figures.
 */
export interface ColdStartFigures {
  tfjs_load_s: number;
  tasks: { task: string; dataset: string; train_file_bytes: number; decode_s: number }[];
}

const seconds = (fromMs: number): number => Math.round((performance.now() - fromMs) / 10) / 100;

export async function measureColdStart(taskIds: readonly string[], dataDir: string): Promise<ColdStartFigures> {
  const loadStart = performance.now();
  const tf = await import('@tensorflow/tfjs-node');
  tf.tidy(() => tf.ones([2, 2]).matMul(tf.ones([2, 2])).dataSync());
  const tfjsLoad = seconds(loadStart);
  const tasks: ColdStartFigures['tasks'] = [];
  for (const taskId of taskIds) {
    const task = getTask(taskId);
    const spec = getDatasetSpec(task.dataset_name);
    const folder = findDatasetFolder(dataDir, spec);
    const files = trainFileNames(spec).map((name) => findOfficialFile(folder, name));
    const bytes = files.reduce((sum, path) => sum + (path === undefined ? 0 : statSync(path).size), 0);
    const { official_train_size, train, val } = task.subset;
    const indices = subsetIndices(official_train_size, task.seed, train, val);
    const decodeStart = performance.now();
    await loadTaskData({ dataset: task.dataset_name, trainIndices: indices.train, valIndices: indices.val, dataDir, cacheDir: null, allowUnverified: true, onWarning: () => undefined });
    tasks.push({ task: taskId, dataset: task.dataset_name, train_file_bytes: bytes, decode_s: seconds(decodeStart) });
  }
  return { tfjs_load_s: tfjsLoad, tasks };
}

// `npx tsx layers/bench/src/cold-start.ts <data dir> [task ...]`: prints the figures as JSON.
if (require.main === module) {
  const [dataDir = '', ...tasks] = process.argv.slice(2);
  measureColdStart(tasks.length > 0 ? tasks : ['easy_mnist', 'medium_fashion', 'hard_cifar'], dataDir).then(
    (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`),
    (error: unknown) => {
      process.stderr.write(`cold-start: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
