/**
 * Storage overhead of one step on the local runtime (loopback dynalite + s3rver), for a
 * checkpoint of a given size: `npx tsx layers/storage/bench/step-overhead.ts [MB] [steps]`.
 * Prints medians of checkpoint put, get+verify, conditional commit, and of whole service
 * steps whose trainer does no work but writes a new checkpoint of that size every step.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Trainer, TrainerFactory } from '../../core/src';
import { StoredEpisodeService } from '../../episodes/src';
import { checkpointKey, sha256Hex } from '../src';
import { startLocalRuntime } from '../src/local-runtime';

const megabytes = Number(process.argv[2] ?? 2.5);
const steps = Number(process.argv[3] ?? 15);
const size = Math.round(megabytes * 1024 * 1024);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** A trainer that trains nothing and checkpoints `size` fresh bytes (a counter in front). */
function bulkyFactory(): TrainerFactory {
  const payload = randomBytes(size);
  let counter = 0;
  const trainer = (): Trainer => ({
    async buildModel() {},
    async applyConfig() {},
    async setAugmentation() {},
    async trainEpoch() {
      return { loss: 1, accuracy: 0.5, seconds: 0 };
    },
    async evaluate() {
      return { loss: 1, accuracy: 0.5, seconds: 0 };
    },
    async keepBestWeights() {},
    async saveCheckpoint() {
      payload.writeUInt32BE(++counter, 0);
      return new Uint8Array(payload);
    },
    dispose() {},
  });
  return { create: async () => trainer(), restore: async () => trainer() };
}

async function main() {
  const runtime = await startLocalRuntime();
  try {
    const bytes = randomBytes(size);
    const sha256 = sha256Hex(bytes);
    const put: number[] = [];
    const get: number[] = [];
    const hash: number[] = [];
    for (let i = 0; i < steps; i++) {
      const pointer = { key: checkpointKey('bench', 'ep', sha256, `a${i}`), sha256, size };
      let t = performance.now();
      await runtime.checkpoints.putCheckpoint(pointer, bytes);
      put.push(performance.now() - t);
      t = performance.now();
      await runtime.checkpoints.getCheckpoint(pointer);
      get.push(performance.now() - t);
      t = performance.now();
      sha256Hex(bytes);
      hash.push(performance.now() - t);
      await runtime.checkpoints.delete(pointer.key);
    }

    const service = new StoredEpisodeService({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, trainers: bulkyFactory() });
    const { episode_id: episodeId } = await service.createEpisode({ tenant: 'bench', taskId: 'easy_mnist' });
    const commit: number[] = [];
    const original = runtime.episodes.commit.bind(runtime.episodes);
    runtime.episodes.commit = async (prepared, expected) => {
      const t = performance.now();
      try {
        return await original(prepared, expected);
      } finally {
        commit.push(performance.now() - t);
      }
    };
    const whole: number[] = [];
    const calls = [{ tool: 'configure_training' }, ...Array.from({ length: 13 }, () => ({ tool: 'get_training_status' }))];
    for (const call of calls) {
      const t = performance.now();
      await service.step({ tenant: 'bench', episodeId, call, requestId: `r-${whole.length}` });
      whole.push(performance.now() - t);
    }
    const f = (v: number[]) => `${median(v).toFixed(1)} ms`;
    console.log(`checkpoint ${megabytes} MB (${size} bytes), medians over ${steps} / ${calls.length} runs:`);
    console.log(`  put (lib-storage Upload):               ${f(put)}`);
    console.log(`  get + SHA-256 verify:                   ${f(get)}`);
    console.log(`  SHA-256 alone:                          ${f(hash)}`);
    console.log(`  conditional PutItem (episode item):     ${f(commit)}`);
    console.log(`  whole service step (read item, get+verify, restore, step, save, put, commit, delete old): ${f(whole)}`);
  } finally {
    await runtime.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
