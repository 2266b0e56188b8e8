import type { ToolCall, Trainer, TrainerFactory } from '../../layers/core/src';
import { StepExecutor, type StepTrainers } from '../../layers/episodes/src/step-executor';
import { planStep, type PlannedStep } from '../../layers/episodes/src/step-plan';
import { createStoredEpisodeService, StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import { checkpointPrefix, StorageError, type StoredEpisode } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { formulaTrainerFactory } from '../../layers/testing/src';
import { sequentialIds, steppingClock, testRuntime } from '../storage/helpers';
import { configure, run, status, submitCall } from './helpers';

/**
 * The step executor between a plan and its commit: what it writes, uploads and deletes when
 * storage calls fail, lose their answer or race another step, and what it tells the caller.
 */

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

const TENANT = 'tenant-executor';

/** Replaces a storage call: gets the real call and its arguments. */
type Hook = (real: () => Promise<unknown>, ...args: unknown[]) => Promise<unknown>;
type Hooks = Partial<Record<'commit' | 'get' | 'putCheckpoint' | 'getCheckpoint' | 'delete', Hook>>;

/** The real store or bucket, with the calls named in hooks replaced while a hook is set; deletes are recorded. */
function hooked<T extends object>(target: T, hooks: Hooks, deletes: unknown[]): T {
  return new Proxy(target, {
    get(object, name, receiver) {
      const value = Reflect.get(object, name, receiver);
      if (typeof value !== 'function') return value;
      const real = value.bind(object) as (...args: unknown[]) => Promise<unknown>;
      return (...args: unknown[]) => {
        if (name === 'delete') deletes.push(args[0]);
        const hook = hooks[name as keyof Hooks];
        return hook ? hook(() => real(...args), ...args) : real(...args);
      };
    },
  });
}

interface Logged {
  message: string;
  details: Record<string, unknown> | undefined;
}

function setup(options: { trainers?: StepTrainers; withErrorLevel?: boolean } = {}) {
  const hooks: Hooks = {};
  const deletes: unknown[] = [];
  const warnings: Logged[] = [];
  const errors: Logged[] = [];
  const clock = steppingClock();
  const newId = sequentialIds(`se${Math.random().toString(36).slice(2, 8)}`);
  const quiet = { warn: () => undefined };
  const service = new StoredEpisodeService({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, trainers: formulaTrainerFactory, clock, newId, logger: quiet });
  const warn = (message: string, details?: Record<string, unknown>) => void warnings.push({ message, details });
  const error = (message: string, details?: Record<string, unknown>) => void errors.push({ message, details });
  const executor = new StepExecutor({
    episodes: hooked(runtime.episodes, hooks, deletes),
    checkpoints: hooked(runtime.checkpoints, hooks, deletes),
    trainers: options.trainers ?? formulaTrainerFactory,
    clock,
    newId,
    logger: options.withErrorLevel === false ? { warn } : { warn, error },
  });
  async function episode(calls: ToolCall[]): Promise<string> {
    const { episode_id: episodeId } = await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist', seed: 5 });
    for (const call of calls) await service.step({ tenant: TENANT, episodeId, call });
    return episodeId;
  }
  async function plan(episodeId: string, call: ToolCall, requestId?: string): Promise<PlannedStep> {
    const planned = await planStep(runtime.episodes, { tenant: TENANT, episodeId, call, requestId });
    if (planned.kind !== 'execute') throw new Error('expected a step to execute');
    return planned.step;
  }
  const stored = async (episodeId: string): Promise<StoredEpisode> => (await runtime.episodes.get(TENANT, episodeId))!;
  const objects = async (episodeId: string): Promise<string[]> => (await runtime.checkpoints.listAll(checkpointPrefix(TENANT, episodeId))).map((o) => o.key).sort();
  const step = (episodeId: string, call: ToolCall) => service.step({ tenant: TENANT, episodeId, call });
  return { hooks, deletes, warnings, errors, executor, episode, plan, stored, objects, step };
}

/** A commit whose write happened but whose answer was lost (the outcome looks unknown to the caller). */
const lostAnswer: Hook = async (real) => {
  await real();
  throw new Error('socket hang up');
};

const sweepLater = (what: string) => `Could not delete the ${what}; sweepCheckpoints removes it later`;

describe('a leased step', () => {
  it('that commits points the item at its new checkpoint and deletes the superseded one; a step that kept the checkpoint deletes nothing', async () => {
    const h = setup();
    const episodeId = await h.episode([]);
    const first = await h.executor.execute(await h.plan(episodeId, configure()));
    expect(first).toMatchObject({ version: 1, error: null });
    const configured = await h.stored(episodeId);
    expect(configured.checkpoint).not.toBeNull();
    expect(h.deletes).toEqual([]);

    await h.executor.execute(await h.plan(episodeId, run(1)));
    const trained = await h.stored(episodeId);
    expect(h.deletes).toEqual([configured.checkpoint!.key]);
    expect(await h.objects(episodeId)).toEqual([trained.checkpoint!.key]);

    await h.executor.execute(await h.plan(episodeId, status));
    expect(h.deletes).toEqual([configured.checkpoint!.key]);
    expect(await h.objects(episodeId)).toEqual([trained.checkpoint!.key]);
    expect(h.warnings).toEqual([]);
  });

  it('that leaves the trainer as it was keeps the stored checkpoint: nothing uploaded, nothing deleted', async () => {
    const h = setup();
    const augment: ToolCall = { tool: 'toggle_augmentation', arguments: { enabled: true, strength: 0.3 } };
    const episodeId = await h.episode([configure(), run(1), augment]);
    const before = await h.stored(episodeId);
    expect(await h.executor.execute(await h.plan(episodeId, augment))).toMatchObject({ version: before.version + 1, error: null });
    expect((await h.stored(episodeId)).checkpoint).toEqual(before.checkpoint);
    expect(await h.objects(episodeId)).toEqual([before.checkpoint!.key]);
    expect(h.deletes).toEqual([]);
  });

  it('warns with the key when the superseded checkpoint cannot be deleted, and still succeeds', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const before = await h.stored(episodeId);
    h.hooks.delete = async () => {
      throw new Error('bucket unreachable');
    };
    expect(await h.executor.execute(await h.plan(episodeId, run(1)))).toMatchObject({ version: 2, error: null });
    expect(h.warnings).toEqual([{ message: sweepLater('superseded checkpoint'), details: { key: before.checkpoint!.key, error: 'Error: bucket unreachable' } }]);
  });

  it('stores the view it returns as the result of its request_id, and sets ended_at only when the episode ends', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const view = await h.executor.execute(await h.plan(episodeId, status, 'look'));
    const looked = await h.stored(episodeId);
    expect(JSON.parse(looked.results.look!.view)).toEqual(view);
    expect(looked.ended_at).toBeNull();

    await h.executor.execute(await h.plan(episodeId, submitCall));
    const submitted = await h.stored(episodeId);
    expect(submitted.record.status).toBe('submitted');
    expect(submitted.ended_at).toBe(submitted.updated_at);
  });

  it('keeps the pending trainer calls when it never restored the trainer', async () => {
    const h = setup();
    const episodeId = await h.episode([configure(), run(1)]);
    const recording = createStoredEpisodeService(runtime, 'record', { logger: { warn: () => undefined } });
    await recording.step({ tenant: TENANT, episodeId, call: { tool: 'toggle_augmentation', arguments: { enabled: true, strength: 0.3 } } });
    const before = await h.stored(episodeId);
    expect(before.trainer_ops!.map((o) => o.op)).toEqual(['set_augmentation']);

    await h.executor.execute(await h.plan(episodeId, status));
    const after = await h.stored(episodeId);
    expect(after.trainer_ops).toEqual(before.trainer_ops);
    expect(after.checkpoint).toEqual(before.checkpoint);
  });
});

describe('a leased step whose checkpoint upload fails', () => {
  it('writes nothing and removes what reached the bucket', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const before = await h.stored(episodeId);
    h.hooks.putCheckpoint = async (real) => {
      await real();
      throw new Error('upload interrupted');
    };
    await expect(h.executor.execute(await h.plan(episodeId, run(1)))).rejects.toThrow('upload interrupted');
    expect(await h.stored(episodeId)).toEqual(before);
    expect(await h.objects(episodeId)).toEqual([before.checkpoint!.key]);
  });

  it('warns with the partial upload key when that cannot be deleted either', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const before = await h.stored(episodeId);
    h.hooks.putCheckpoint = async (real) => {
      await real();
      throw new Error('upload interrupted');
    };
    h.hooks.delete = async () => {
      throw new Error('bucket unreachable');
    };
    await expect(h.executor.execute(await h.plan(episodeId, run(1)))).rejects.toThrow('upload interrupted');
    const [partial] = (await h.objects(episodeId)).filter((key) => key !== before.checkpoint!.key);
    expect(partial).toBeDefined();
    expect(h.warnings).toEqual([{ message: sweepLater('checkpoint of a failed upload'), details: { key: partial, error: 'Error: bucket unreachable' } }]);
  });
});

describe('a leased step whose commit fails', () => {
  it('on a conflict reports the versions, deletes its upload and keeps the stored checkpoint', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const before = await h.stored(episodeId);
    const planned = await h.plan(episodeId, run(1));
    await h.step(episodeId, status);
    const refusal = await h.executor.execute(planned).catch((e: unknown) => e);
    expect(refusal).toMatchObject({
      code: 'conflict',
      message: `Episode ${episodeId} changed while this step ran (read at version 1, now at 2); nothing was committed. Read the episode again and retry.`,
      details: { expected_version: 1, current_version: 2 },
    });
    expect(await h.objects(episodeId)).toEqual([before.checkpoint!.key]);
    expect(h.deletes).toHaveLength(1);
    expect(h.deletes[0]).not.toBe(before.checkpoint!.key);
    expect((await h.stored(episodeId)).version).toBe(2);
  });

  it('on a conflict of a step that uploaded nothing deletes nothing', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const planned = await h.plan(episodeId, status);
    await h.step(episodeId, status);
    await expect(h.executor.execute(planned)).rejects.toMatchObject({ code: 'conflict', details: { expected_version: 1, current_version: 2 } });
    expect(h.deletes).toEqual([]);
    expect(h.warnings).toEqual([]);
  });

  it('on a conflict warns with the key of an upload it cannot delete', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const before = await h.stored(episodeId);
    const planned = await h.plan(episodeId, run(1));
    await h.step(episodeId, status);
    h.hooks.delete = async () => {
      throw new Error('bucket unreachable');
    };
    await expect(h.executor.execute(planned)).rejects.toMatchObject({ code: 'conflict' });
    const [orphan] = (await h.objects(episodeId)).filter((key) => key !== before.checkpoint!.key);
    expect(h.warnings).toEqual([{ message: sweepLater('checkpoint of a step that did not commit'), details: { key: orphan, error: 'Error: bucket unreachable' } }]);
  });

  it('with another error (nothing written) passes that error on and deletes its upload', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const before = await h.stored(episodeId);
    const throttled = new Error('throttled');
    h.hooks.commit = async () => {
      throw throttled;
    };
    await expect(h.executor.execute(await h.plan(episodeId, run(1)))).rejects.toBe(throttled);
    expect(await h.objects(episodeId)).toEqual([before.checkpoint!.key]);
    expect(await h.stored(episodeId)).toEqual(before);
  });

  it('on a conflict with the episode gone answers not_found', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const planned = await h.plan(episodeId, status);
    h.hooks.commit = async () => {
      throw new StorageError('conflict', 'lost the condition');
    };
    h.hooks.get = async () => null;
    await expect(h.executor.execute(planned)).rejects.toMatchObject({ code: 'not_found', details: { episode_id: episodeId } });
  });

  it('to the same request_id committed first returns that result as a replay and deletes its own upload', async () => {
    const h = setup();
    const episodeId = await h.episode([]);
    const first = await h.plan(episodeId, configure(), 'twice');
    const second = await h.plan(episodeId, configure(), 'twice');
    const committed = await h.executor.execute(first);
    const winner = (await h.stored(episodeId)).checkpoint!.key;
    expect(await h.executor.execute(second)).toEqual({ ...committed, replayed: true });
    expect(await h.objects(episodeId)).toEqual([winner]);
    expect(h.deletes).toHaveLength(1);
    expect(h.deletes[0]).not.toBe(winner);
  });

  it('whose write happened (the answer was lost) succeeds and deletes the superseded checkpoint', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const before = await h.stored(episodeId);
    h.hooks.commit = lostAnswer;
    h.hooks.delete = async () => {
      throw new Error('bucket unreachable');
    };
    const view = await h.executor.execute(await h.plan(episodeId, run(1)));
    expect(view).toMatchObject({ version: 2, error: null, replayed: false });
    expect((await h.stored(episodeId)).version).toBe(2);
    expect(h.deletes).toEqual([before.checkpoint!.key]);
    expect(h.warnings).toEqual([{ message: sweepLater('superseded checkpoint'), details: { key: before.checkpoint!.key, error: 'Error: bucket unreachable' } }]);
  });

  it('whose write happened keeps the checkpoint when the step uploaded none, and needs none before the first', async () => {
    const h = setup();
    const episodeId = await h.episode([]);
    h.hooks.commit = lostAnswer;
    expect(await h.executor.execute(await h.plan(episodeId, configure()))).toMatchObject({ version: 1, error: null });
    const configured = await h.stored(episodeId);
    expect(configured.checkpoint).not.toBeNull();
    expect(await h.executor.execute(await h.plan(episodeId, status))).toMatchObject({ version: 2, error: null });
    expect(h.deletes).toEqual([]);
    expect(await h.objects(episodeId)).toEqual([configured.checkpoint!.key]);
  });
});

describe('an unleased step', () => {
  it('that needs the trainer writes nothing and says so', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    expect(await h.executor.executeUnleased(await h.plan(episodeId, run(1)))).toEqual({ kind: 'needs_trainer' });
    expect((await h.stored(episodeId)).version).toBe(1);
  });

  it('that touches no trainer commits on an episode with a checkpoint, and with trainers "record" also before the first', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const committed = await h.executor.executeUnleased(await h.plan(episodeId, status));
    expect(committed).toEqual({ kind: 'committed', view: expect.objectContaining({ version: 2, tool: 'get_training_status', error: null }) });

    const recording = setup({ trainers: 'record' });
    const fresh = await recording.episode([]);
    expect(await recording.executor.executeUnleased(await recording.plan(fresh, status))).toMatchObject({ kind: 'committed', view: { version: 1 } });
    expect((await recording.stored(fresh)).version).toBe(1);
  });

  it('whose write happened (the answer was lost) counts as committed', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    h.hooks.commit = lostAnswer;
    const outcome = await h.executor.executeUnleased(await h.plan(episodeId, status));
    expect(outcome).toEqual({ kind: 'committed', view: expect.objectContaining({ version: 2, error: null }) });
    expect((await h.stored(episodeId)).version).toBe(2);
  });

  it('whose commit fails otherwise passes the error on, also when the read back fails', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const throttled = new Error('throttled');
    h.hooks.commit = async () => {
      throw throttled;
    };
    await expect(h.executor.executeUnleased(await h.plan(episodeId, status))).rejects.toBe(throttled);
    h.hooks.get = async () => {
      throw new Error('read failed too');
    };
    await expect(h.executor.executeUnleased(await h.plan(episodeId, status))).rejects.toBe(throttled);
    expect((await h.stored(episodeId)).version).toBe(1);
  });
  it('whose commit fails on an episode deleted meanwhile passes the error on', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const reset = new Error('connection reset');
    h.hooks.commit = async () => {
      await runtime.episodes.delete(TENANT, episodeId);
      throw reset;
    };
    await expect(h.executor.executeUnleased(await h.plan(episodeId, status))).rejects.toBe(reset);
    expect(await runtime.episodes.get(TENANT, episodeId)).toBeNull();
  });
});

describe("a step with trainers 'record'", () => {
  it('that would train is refused as a conflict naming the episode and version', async () => {
    const h = setup({ trainers: 'record' });
    const episodeId = await h.episode([configure()]);
    await expect(h.executor.execute(await h.plan(episodeId, run(1)))).rejects.toMatchObject({
      code: 'conflict',
      message: `Episode ${episodeId} changed while this step was routed; nothing ran. Send it again.`,
      details: { episode_id: episodeId, version: 1 },
    });
  });
});

/** The formula trainer, whose setAugmentation can be made to throw; counts the trainers built and disposed. */
function faultyFactory(faults: { setAugmentation?: boolean }) {
  const counts = { built: 0, disposed: 0 };
  const wrap = (inner: Trainer): Trainer => {
    counts.built++;
    return {
      buildModel: (c) => inner.buildModel(c),
      applyConfig: (c, o) => inner.applyConfig(c, o),
      setAugmentation: async (s) => {
        if (faults.setAugmentation) throw new Error('augmentation broke');
        return inner.setAugmentation(s);
      },
      trainEpoch: (lr) => inner.trainEpoch(lr),
      evaluate: () => inner.evaluate(),
      keepBestWeights: () => inner.keepBestWeights(),
      saveCheckpoint: () => inner.saveCheckpoint(),
      dispose: () => {
        counts.disposed++;
        inner.dispose();
      },
    };
  };
  const factory: TrainerFactory = {
    create: async (spec) => wrap(await formulaTrainerFactory.create(spec)),
    restore: async (spec, checkpoint) => wrap(await formulaTrainerFactory.restore(spec, checkpoint)),
  };
  return { factory, counts };
}

describe('the trainer of a leased step', () => {
  it('whose pending calls fail to replay is disposed, and the step fails with nothing written', async () => {
    const { factory, counts } = faultyFactory({ setAugmentation: true });
    const h = setup({ trainers: factory });
    const episodeId = await h.episode([configure(), run(1)]);
    const recording = createStoredEpisodeService(runtime, 'record', { logger: { warn: () => undefined } });
    await recording.step({ tenant: TENANT, episodeId, call: { tool: 'toggle_augmentation', arguments: { enabled: true, strength: 0.3 } } });
    const before = await h.stored(episodeId);
    await expect(h.executor.execute(await h.plan(episodeId, run(1)))).rejects.toThrow('augmentation broke');
    expect(counts.built).toBe(1);
    expect(counts.disposed).toBe(1);
    expect(await h.stored(episodeId)).toEqual(before);
  });
});

describe('loading the checkpoint of a leased step', () => {
  it('after another step superseded it is a conflict naming both versions, not a broken checkpoint', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const planned = await h.plan(episodeId, run(1));
    await h.step(episodeId, run(1));
    await expect(h.executor.execute(planned)).rejects.toMatchObject({
      code: 'conflict',
      message: `Episode ${episodeId} changed while this step started (read at version 1, now at 2); nothing was committed. Read the episode again and retry.`,
      details: { expected_version: 1, current_version: 2 },
    });
    expect(h.errors).toEqual([]);
  });

  it('that fails for another reason passes the error on, also when the episode moved on meanwhile', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const planned = await h.plan(episodeId, run(1));
    h.hooks.getCheckpoint = async () => {
      await h.step(episodeId, status);
      throw new Error('s3 down');
    };
    await expect(h.executor.execute(planned)).rejects.toThrow('s3 down');
    expect(h.errors).toEqual([]);
  });

  it('that is missing on an episode that is gone answers not_found', async () => {
    const h = setup();
    const episodeId = await h.episode([configure()]);
    const planned = await h.plan(episodeId, run(1));
    h.hooks.getCheckpoint = async () => {
      throw new StorageError('integrity', 'Checkpoint is missing.');
    };
    h.hooks.get = async () => null;
    await expect(h.executor.execute(planned)).rejects.toMatchObject({ code: 'not_found', details: { episode_id: episodeId } });
  });

  it('that is broken goes to console.error when the logger has no error level, and the call answers checkpoint_unavailable', async () => {
    const h = setup({ withErrorLevel: false });
    const episodeId = await h.episode([configure()]);
    h.hooks.getCheckpoint = async () => {
      throw new StorageError('integrity', 'Checkpoint is corrupt.');
    };
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const view = await h.executor.execute(await h.plan(episodeId, run(1)));
      expect(view.error).toMatchObject({ code: 'checkpoint_unavailable' });
      expect(consoleError).toHaveBeenCalledWith(
        'Checkpoint unavailable: training tools answer checkpoint_unavailable',
        expect.objectContaining({ episode_id: episodeId, reason: 'Checkpoint is corrupt.' }),
      );
    } finally {
      consoleError.mockRestore();
    }
  });
});
