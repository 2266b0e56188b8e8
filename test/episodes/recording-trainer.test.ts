import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  createEpisode,
  executeStep,
  needsTrainingData,
  RecordingTrainer,
  RecordingTrainerMisuse,
  trainerOperationsSchema,
  type EpisodeRecord,
  type ToolCall,
} from '../../layers/core/src';
import { createStoredEpisodeService, EpisodeServiceError } from '../../layers/episodes/src';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { configure, instrumentedFactory, run, status } from './helpers';

/** Which calls need the training data, what a recording trainer keeps, and how the stored service runs with trainers 'record'. */

async function configured(): Promise<EpisodeRecord> {
  return (await executeStep(createEpisode('easy_mnist'), configure(), new RecordingTrainer())).record;
}

describe('needsTrainingData: the one routing decision', () => {
  it('is true only for a run_epochs that trains', async () => {
    const fresh = createEpisode('easy_mnist');
    const ready = await configured();
    expect(needsTrainingData(ready, run(3))).toBe(true);
    expect(needsTrainingData(ready, { tool: 'run_epochs' })).toBe(true); // num_epochs defaults to 10
    for (const call of [configure(), status, { tool: 'submit_model' }, { tool: 'adjust_learning_rate', arguments: { new_lr: 0.1 } }, { tool: 'toggle_augmentation' }]) {
      expect(needsTrainingData(ready, call)).toBe(false);
    }
    // Rejected calls: not configured, invalid arguments, unknown tool, an ended episode, a diverged model, a spent budget.
    expect(needsTrainingData(fresh, run(3))).toBe(false);
    expect(needsTrainingData(ready, { tool: 'run_epochs', arguments: { num_epochs: 'x' } })).toBe(false);
    expect(needsTrainingData(ready, { tool: 'run_epochs', arguments: [] })).toBe(false);
    expect(needsTrainingData(ready, { tool: 'train_harder' })).toBe(false);
    expect(needsTrainingData({ ...ready, status: 'submitted' }, run(3))).toBe(false);
    expect(needsTrainingData({ ...ready, model: { ...ready.model, diverged: true } }, run(3))).toBe(false);
    expect(needsTrainingData({ ...ready, budget_used: 1_000 }, run(3))).toBe(false);
  });
});

describe('RecordingTrainer', () => {
  it('keeps the calls that change the model, after the pending ones, as operations the core schema accepts', async () => {
    const recorder = new RecordingTrainer([{ op: 'set_augmentation', enabled: true, strength: 0.2 }]);
    let record = (await executeStep(createEpisode('easy_mnist'), configure({ dropout: 0.1 }), recorder)).record;
    record = (await executeStep(record, configure({ dropout: 0.1, optimizer: 'sgd' }), recorder)).record;
    await executeStep(record, { tool: 'toggle_augmentation', arguments: { enabled: false } }, recorder);
    expect(recorder.pending.map((o) => o.op)).toEqual(['set_augmentation', 'build_model', 'apply_config', 'set_augmentation']);
    expect(recorder.pending[2]).toMatchObject({ op: 'apply_config', keep_optimizer_state: false, config: { optimizer: 'sgd' } });
    expect(trainerOperationsSchema.parse(JSON.parse(JSON.stringify(recorder.pending)))).toEqual(recorder.pending);
  });

  it('refuses loudly to train, evaluate, keep weights or save: a misrouted step fails instead of answering', async () => {
    const recorder = new RecordingTrainer();
    await expect(recorder.trainEpoch()).rejects.toBeInstanceOf(RecordingTrainerMisuse);
    await expect(recorder.evaluate()).rejects.toBeInstanceOf(RecordingTrainerMisuse);
    await expect(recorder.keepBestWeights()).rejects.toBeInstanceOf(RecordingTrainerMisuse);
    await expect(recorder.saveCheckpoint()).rejects.toThrow(/routed away from the training function/);
    await expect(executeStep(await configured(), run(1), recorder)).rejects.toBeInstanceOf(RecordingTrainerMisuse);
  });
});

describe("the stored service with trainers 'record'", () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await startLocalRuntime();
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('commits the steps with their trainer calls pending, refuses a step that trains (nothing ran), and a real trainer replays and clears them', async () => {
    const recording = createStoredEpisodeService(runtime, 'record');
    const episode = await recording.createEpisode({ tenant: 't1', taskId: 'easy_mnist' });
    const step = (call: ToolCall, service = recording) => service.step({ tenant: 't1', episodeId: episode.episode_id, call });
    await step(configure());
    await step({ tool: 'toggle_augmentation', arguments: { enabled: true } });
    let stored = (await runtime.episodes.get('t1', episode.episode_id))!;
    expect(stored).toMatchObject({ version: 2, checkpoint: null });
    expect(stored.trainer_ops!.map((o) => o.op)).toEqual(['build_model', 'set_augmentation']);

    const refusal = await step(run(2)).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(EpisodeServiceError);
    expect(refusal).toMatchObject({ code: 'conflict' });
    expect((await runtime.episodes.get('t1', episode.episode_id))!.version).toBe(2);

    const factory = instrumentedFactory();
    const training = createStoredEpisodeService(runtime, factory);
    expect((await step(run(2), training)).error).toBeNull();
    stored = (await runtime.episodes.get('t1', episode.episode_id))!;
    expect(stored.trainer_ops).toBeUndefined();
    expect(stored.checkpoint).not.toBeNull();
    expect(factory.counts).toMatchObject({ create: 1, restore: 0, trainEpoch: 2 });
  });

  it('refuses to read an item whose pending trainer calls are not valid', async () => {
    const recording = createStoredEpisodeService(runtime, 'record');
    const episode = await recording.createEpisode({ tenant: 't2', taskId: 'easy_mnist' });
    await recording.step({ tenant: 't2', episodeId: episode.episode_id, call: configure() });
    const raw = (await runtime.clients.documents.send(
      new GetCommand({ TableName: runtime.config.tableName, Key: { pk: `episode#t2#${episode.episode_id}`, sk: 'episode' } }),
    )).Item!;
    await runtime.clients.documents.send(
      new PutCommand({ TableName: runtime.config.tableName, Item: { ...raw, trainer_ops: JSON.stringify([{ op: 'format_disk' }]) } }),
    );
    await expect(runtime.episodes.get('t2', episode.episode_id)).rejects.toThrow(/no valid pending trainer operations/);
  });
});
