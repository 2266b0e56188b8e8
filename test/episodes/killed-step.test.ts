import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { StepView } from '../../layers/episodes/src/episode-service';
import { StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import { checkpointPrefix } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { sequentialIds, steppingClock, testRuntime } from '../storage/helpers';
import { configure, instrumentedFactory, run } from './helpers';
import type { StepChildInput } from './step-child';

const TENANT = 'tenant-k';
const CHILD_SCRIPT = join(__dirname, 'step-child.ts');
/** The child's epoch line on which the parent kills it: after more than one lease duration (renewed meanwhile). */
const KILL_AT_EPOCH = 5;
/** The child needs 10 × this to finish the step: ample margin for a parent slowed by load. */
const EPOCH_DELAY_MS = 300;
const CHILD_TIMEOUT_MS = 60_000;
/**
 * The child's lease, passed as production passes it (StoredEpisodeServiceOptions.leaseMs, as
 * the training Lambda does): a test-sized DEFAULT_STEP_LEASE_MS. The child renews it while
 * it lives; killed, it leaves a lease that lapses within this, and the retry below waits that long.
 */
const CHILD_LEASE_MS = 1_000;

let runtime: LocalRuntime;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await runtime?.close();
});

/** What a step returns, without what differs between two episodes. */
function comparable(view: StepView) {
  const { episode_id: _id, replayed: _replayed, ...rest } = view;
  return rest;
}

async function checkpointKeys(episodeId: string): Promise<string[]> {
  return (await runtime.checkpoints.listAll(checkpointPrefix(TENANT, episodeId))).map((o) => o.key);
}

/**
 * Runs one step in a separate Node process on this runtime's endpoints and SIGKILLs it as
 * soon as it reports its KILL_AT_EPOCH-th epoch. Resolves once the process is gone.
 */
async function stepInChildKilledMidTraining(input: Omit<StepChildInput, 'config' | 'epochDelayMs' | 'leaseMs'>) {
  const payload: StepChildInput = { ...input, config: runtime.config, epochDelayMs: EPOCH_DELAY_MS, leaseMs: CHILD_LEASE_MS };
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), CHILD_SCRIPT], {
    env: { ...process.env, STEP_CHILD: JSON.stringify(payload) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let killedAfter: number | null = null;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    const epoch = /^epoch (\d+)$/.exec(line);
    if (epoch && killedAfter === null && Number(epoch[1]) >= KILL_AT_EPOCH) {
      killedAfter = Number(epoch[1]);
      child.kill('SIGKILL');
    }
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`The step child did not reach epoch ${KILL_AT_EPOCH} in ${CHILD_TIMEOUT_MS} ms; stdout: ${lines.join(' | ')}; stderr: ${stderr}`));
    }, CHILD_TIMEOUT_MS);
  });
  try {
    const exit = await Promise.race([exited, timedOut]);
    const diagnostics = `stdout: ${lines.join(' | ')}; stderr: ${stderr}`;
    if (killedAfter === null) throw new Error(`The step child exited (${exit.code ?? exit.signal}) before epoch ${KILL_AT_EPOCH}; ${diagnostics}`);
    return { ...exit, killedAfter: killedAfter as number, lines, diagnostics };
  } finally {
    clearTimeout(timer);
    children.delete(child);
  }
}

describe('a step process killed mid-training', () => {
  it('leaves the episode at its previous version; the retry matches an undisturbed run', async () => {
    const trainers = instrumentedFactory();
    const service = new StoredEpisodeService({
      episodes: runtime.episodes,
      checkpoints: runtime.checkpoints,
      trainers,
      clock: steppingClock(),
      newId: sequentialIds(`k${Math.random().toString(36).slice(2, 8)}`),
    });
    const disturbed = (await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist', seed: 11 })).episode_id;
    const undisturbed = (await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist', seed: 11 })).episode_id;
    for (const episodeId of [disturbed, undisturbed]) {
      await service.step({ tenant: TENANT, episodeId, call: configure({ optimizer: 'adam', learning_rate: 0.0008 }), requestId: 'configure-1' });
    }
    const before = await runtime.episodes.get(TENANT, disturbed);
    expect(before).toMatchObject({ version: 1, usage: { steps: 1, epochs_trained: 0 } });

    const requestId = 'run-10';
    const killed = await stepInChildKilledMidTraining({ tenant: TENANT, episodeId: disturbed, requestId, call: run(10) });
    // Killed by the signal, mid-training: it trained some epochs and never finished the step.
    expect({ signal: killed.signal, code: killed.code }).toEqual({ signal: 'SIGKILL', code: null });
    expect(killed.killedAfter).toBeGreaterThanOrEqual(KILL_AT_EPOCH);
    expect(killed.killedAfter).toBeLessThan(10);
    expect(killed.lines.some((line) => line.startsWith('done'))).toBe(false);
    // What the killed child left: no lease, or one its last renewal set to lapse within one lease duration.
    const leftBehind = (await runtime.episodes.readLease(TENANT, disturbed))!.lease;
    if (leftBehind !== null) expect(Date.parse(leftBehind.expires_at) - Date.now()).toBeLessThanOrEqual(CHILD_LEASE_MS);

    // The item is exactly as before: same version, record, usage, results and checkpoint pointer.
    const after = await runtime.episodes.get(TENANT, disturbed);
    expect(after).toEqual(before);
    expect(after!.results).not.toHaveProperty(requestId);
    // The pointer still names an object whose bytes match its SHA-256 (getCheckpoint verifies).
    const restored = await runtime.checkpoints.getCheckpoint(after!.checkpoint!);
    expect(restored.byteLength).toBe(after!.checkpoint!.size);
    // Anything the child may have uploaded is unreferenced, and the sweep removes only that.
    const keys = await checkpointKeys(disturbed);
    expect(keys).toContain(after!.checkpoint!.key);
    const orphans = keys.filter((key) => key !== after!.checkpoint!.key);
    expect((await service.sweepCheckpoints(TENANT, disturbed, { minAgeSeconds: 0 })).deleted.sort()).toEqual(orphans.sort());
    expect(await checkpointKeys(disturbed)).toEqual([after!.checkpoint!.key]);

    // The retry (same request_id) waits for the killed step's lease to lapse, then trains the whole step from the previous checkpoint.
    const epochsBefore = trainers.counts.trainEpoch;
    const retryStarted = Date.now();
    const retried = await service.step({ tenant: TENANT, episodeId: disturbed, call: run(10), requestId });
    // About one lease duration (a generous bound for a loaded machine), not the minutes a step-long lease took.
    expect(Date.now() - retryStarted).toBeLessThan(CHILD_LEASE_MS + 10_000);
    expect(trainers.counts.trainEpoch - epochsBefore).toBe(10);
    expect(retried).toMatchObject({ episode_id: disturbed, version: 2, step: 2, error: null, replayed: false });
    const reference = await service.step({ tenant: TENANT, episodeId: undisturbed, call: run(10), requestId });
    expect(comparable(retried)).toEqual(comparable(reference));
    expect(await service.step({ tenant: TENANT, episodeId: disturbed, call: run(10), requestId })).toEqual({ ...retried, replayed: true });

    const [a, b] = await Promise.all([service.getEpisode(TENANT, disturbed), service.getEpisode(TENANT, undisturbed)]);
    expect(a.record).toEqual(b.record);
    expect(a.usage).toEqual(b.usage);
    expect(a.usage).toMatchObject({ steps: 2, epochs_trained: 10 });
    const [itemA, itemB] = await Promise.all([runtime.episodes.get(TENANT, disturbed), runtime.episodes.get(TENANT, undisturbed)]);
    const [bytesA, bytesB] = await Promise.all([runtime.checkpoints.getCheckpoint(itemA!.checkpoint!), runtime.checkpoints.getCheckpoint(itemB!.checkpoint!)]);
    expect(Buffer.from(bytesA).equals(Buffer.from(bytesB))).toBe(true);
    expect(await checkpointKeys(disturbed)).toEqual([itemA!.checkpoint!.key]);
    expect(trainers.counts.live).toBe(0);
  }, 90_000);
});
