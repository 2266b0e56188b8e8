import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createGradeHandler, type GradeHandler } from '../../functions/grade/handler';
import { lambdaContext } from '../../layers/cloud/src/invokers';
import { formulaTrainerFactory } from '../../layers/testing/src';
import { StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import './helpers';

/** The grade Lambda: grades from the stored record, idempotently; never grades an active episode. */

describe('grade handler', () => {
  let runtime: LocalRuntime;
  let service: StoredEpisodeService;
  let grade: GradeHandler;
  const tenant = 'tenant-g';

  beforeAll(async () => {
    runtime = await startLocalRuntime();
    service = new StoredEpisodeService({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, trainers: formulaTrainerFactory, logger: { warn: () => undefined } });
    grade = createGradeHandler({ storage: runtime });
  });
  afterAll(async () => {
    await runtime?.close();
  });

  async function endedEpisode(taskId = 'hard_cifar') {
    const { episode_id } = await service.createEpisode({ tenant, taskId });
    await service.step({ tenant, episodeId: episode_id, call: { tool: 'configure_training', arguments: { lr_schedule: 'cosine' } } });
    await service.step({ tenant, episodeId: episode_id, call: { tool: 'run_epochs', arguments: { num_epochs: 12 } } });
    const submitted = await service.step({ tenant, episodeId: episode_id, call: { tool: 'submit_model' } });
    return { episode_id, grade: submitted.grade! };
  }

  const rawItem = async (episodeId: string) =>
    (await runtime.clients.documents.send(new GetCommand({ TableName: runtime.config.tableName, Key: { pk: `episode#${tenant}#${episodeId}`, sk: 'episode' } }))).Item!;

  it('confirms the grade of an ended episode and records it once (a second invocation changes nothing)', async () => {
    const { episode_id, grade: recorded } = await endedEpisode();
    const event = { source: 'batch', run_id: 'run-1', tenant, episode_id };
    const first = await grade(event, lambdaContext({ functionName: 'grade', memoryMb: 512 }));
    expect(first).toEqual({
      tenant,
      episode_id,
      task_id: 'hard_cifar',
      status: 'graded',
      score: recorded.score,
      accuracy: expect.any(Number),
      epochs: 12,
      steps: 3,
      ended: 'submitted',
      ended_at: expect.any(String),
    });
    const afterFirst = await rawItem(episode_id);
    expect(afterFirst).toMatchObject({ grade_matches: true, graded_by: 'batch:run-1', version: 3 });
    // The second grading writes nothing: the note is there with the same outcome (an update is charged by the whole item).
    const notes = jest.spyOn(runtime.episodes, 'noteIfAtVersion');
    const second = await grade({ ...event, run_id: 'run-2' });
    expect(notes).not.toHaveBeenCalled();
    notes.mockRestore();
    expect(second).toEqual(first);
    const afterSecond = await rawItem(episode_id);
    expect(afterSecond.graded_at).toBe(afterFirst.graded_at);
    expect(afterSecond.graded_by).toBe('batch:run-1');
    // The episode itself is untouched.
    expect((await runtime.episodes.get(tenant, episode_id))!.record.grade).toEqual(recorded);
    expect(JSON.stringify(first).length).toBeLessThan(400);
  });

  it('does not grade an active episode, and reports a missing one', async () => {
    const { episode_id } = await service.createEpisode({ tenant, taskId: 'easy_mnist' });
    expect(await grade({ source: 'api', tenant, episode_id })).toMatchObject({ status: 'not_ended', score: null, task_id: 'easy_mnist' });
    expect((await rawItem(episode_id)).graded_at).toBeUndefined();
    expect(await grade({ source: 'api', tenant, episode_id: 'no-such-episode' })).toEqual({
      tenant,
      episode_id: 'no-such-episode',
      task_id: null,
      status: 'not_found',
      score: null,
    });
    // Another tenant's episode does not exist for this tenant.
    expect((await grade({ source: 'api', tenant: 'tenant-other', episode_id })).status).toBe('not_found');
    await expect(grade({ source: 'api', tenant })).rejects.toThrow(/episode_id/);
  });

  it('reports (and keeps) a recorded grade the grader does not reproduce', async () => {
    const { episode_id, grade: recorded } = await endedEpisode('medium_fashion');
    const stored = (await runtime.episodes.get(tenant, episode_id))!;
    const tampered = { ...stored.record, grade: { ...recorded, score: 0.12345 } };
    await runtime.clients.documents.send(
      new UpdateCommand({
        TableName: runtime.config.tableName,
        Key: { pk: `episode#${tenant}#${episode_id}`, sk: 'episode' },
        UpdateExpression: 'SET #record = :record',
        ExpressionAttributeNames: { '#record': 'record' },
        ExpressionAttributeValues: { ':record': JSON.stringify(tampered) },
      }),
    );
    const result = await grade({ source: 'api', tenant, episode_id });
    expect(result).toMatchObject({ status: 'grade_mismatch', score: 0.12345, recomputed_score: recorded.score });
    expect((await rawItem(episode_id)).grade_matches).toBe(false);
  });
});
