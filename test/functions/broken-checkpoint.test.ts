import { gradeEpisode, gradeInputOf } from '../../layers/core/src';
import { CORRUPTIONS, corruptCheckpoint } from '../episodes/corruptions';
import { startCloud, type Cloud } from './helpers';

/**
 * Issue 12, item 4 through the cloud app (API Gateway events, the training handler's lazy
 * trainers, dynalite + s3rver): a broken checkpoint makes training tools answer 409
 * checkpoint_unavailable with the committed step; status and submit_model still work, and the
 * grade is the one of the stored metrics.
 */

let cloud: Cloud;
beforeAll(async () => {
  cloud = await startCloud();
});
afterAll(async () => {
  await cloud?.close();
});

async function trainedEpisode(seed: number): Promise<{ id: string; tenant: string }> {
  const created = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist', seed } });
  const id = created.json.episode_id as string;
  expect((await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'configure_training', arguments: { learning_rate: 0.01 } } })).status).toBe(200);
  expect((await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'run_epochs', arguments: { num_epochs: 3 } } })).status).toBe(200);
  const key = (await cloud.runtime.checkpoints.listAll('checkpoints/')).find((o) => o.key.includes(`/${id}/`))!.key;
  return { id, tenant: key.split('/')[1]! };
}

describe('cloud app: a broken checkpoint', () => {
  let foreign: { id: string; tenant: string };
  beforeAll(async () => {
    foreign = await trainedEpisode(7);
  });

  it.each(Object.keys(CORRUPTIONS))('(%s): run_epochs is 409 checkpoint_unavailable; status and submit_model work', async (mode) => {
    const { id, tenant } = await trainedEpisode(42);
    const before = (await cloud.runtime.episodes.get(tenant, id))!;
    await corruptCheckpoint(cloud.runtime.checkpoints, before.checkpoint!, mode, (await cloud.runtime.episodes.get(foreign.tenant, foreign.id))!.checkpoint!);

    const refused = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'run_epochs', arguments: { num_epochs: 2 } } });
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: 'checkpoint_unavailable', details: { step: { step: 3, error: { code: 'checkpoint_unavailable' } } } });
    expect(refused.json.error.message).toContain(id);

    const status = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'get_training_status' } });
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ error: null, data: { current_epoch: 3 } });

    const submitted = await cloud.api('POST', `/v1/episodes/${id}/steps`, { body: { tool: 'submit_model' } });
    expect(submitted.status).toBe(200);
    expect(submitted.json).toMatchObject({ done: true, grade: gradeEpisode(gradeInputOf(before.record)) });
    const episode = await cloud.api('GET', `/v1/episodes/${id}`);
    expect(episode.json).toMatchObject({ status: 'submitted', grade: gradeEpisode(gradeInputOf(before.record)) });
  });
});
