import { CoreError, executeStep, type Trainer } from '../../layers/core/src';
import { StoredEpisodeService } from '../../layers/episodes/src';
import { buildEpisodeReport, renderEpisodeReportHtml } from '../../layers/reports/src';
import { formulaTrainerFactory } from '../../layers/testing/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { corruptCheckpoint } from '../episodes/corruptions';
import { http, startServer, type RunningServer } from '../server/harness';
import { testRuntime } from '../storage/helpers';
import { play } from './helpers';

/** Issue 12, item 4: the report and the dashboard show that an episode's checkpoint is unavailable. */

const unavailable = (): never => {
  throw new CoreError('checkpoint_unavailable', 'The checkpoint of episode e-1 is unavailable (it is missing).');
};
const brokenTrainer: Trainer = {
  buildModel: async () => unavailable(),
  applyConfig: async () => unavailable(),
  setAugmentation: async () => unavailable(),
  trainEpoch: async () => unavailable(),
  evaluate: async () => unavailable(),
  keepBestWeights: async () => unavailable(),
  saveCheckpoint: async () => unavailable(),
  dispose: () => undefined,
};

describe('episode report', () => {
  it('names the last step a broken checkpoint refused, in the JSON and as an alert in the HTML', async () => {
    const records = await play([{ tool: 'configure_training', arguments: {} }, { tool: 'run_epochs', arguments: { num_epochs: 2 } }]);
    expect(buildEpisodeReport({ record: records[1]! }).checkpoint_unavailable).toBeNull();
    expect(renderEpisodeReportHtml(buildEpisodeReport({ record: records[1]! }))).not.toContain('Checkpoint unavailable');

    const refused = (await executeStep(records[1]!, { tool: 'run_epochs', arguments: { num_epochs: 1 } }, brokenTrainer)).record;
    const report = buildEpisodeReport({ record: refused });
    expect(report.checkpoint_unavailable).toEqual({ step: 3, tool: 'run_epochs', message: 'The checkpoint of episode e-1 is unavailable (it is missing).' });
    const page = renderEpisodeReportHtml(report);
    expect(page).toContain('id="checkpoint-unavailable"');
    expect(page).toContain('Checkpoint unavailable (step 3, <code>run_epochs</code>): The checkpoint of episode e-1 is unavailable (it is missing).');
  });
});

describe('dashboard', () => {
  let runtime: LocalRuntime;
  let server: RunningServer;
  const errors: string[] = [];
  beforeAll(async () => {
    runtime = await testRuntime();
    const service = new StoredEpisodeService({
      episodes: runtime.episodes,
      checkpoints: runtime.checkpoints,
      trainers: formulaTrainerFactory,
      logger: { warn: () => undefined, error: (message: string) => errors.push(message) },
    });
    server = await startServer({ service });
  });
  afterAll(async () => {
    await server?.close();
    await runtime?.close();
  });

  it("shows the failure on the episode's page and in its downloadable report", async () => {
    const step = (id: string, tool: string, args: Record<string, unknown> = {}) => http('POST', `${server.base}/v1/episodes/${id}/steps`, { tool, arguments: args });
    const created = await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist' });
    const id = created.json.episode_id as string;
    await step(id, 'configure_training');
    await step(id, 'run_epochs', { num_epochs: 2 });
    const pointer = (await runtime.episodes.get('local', id))!.checkpoint!;
    await corruptCheckpoint(runtime.checkpoints, pointer, 'flipped byte', pointer);

    const refused = await step(id, 'run_epochs', { num_epochs: 1 });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('checkpoint_unavailable');
    expect(errors).toEqual([expect.stringContaining('Checkpoint unavailable')]);

    const api = await http('GET', `${server.base}/dashboard/api/episodes/${id}`);
    expect(api.json.report.checkpoint_unavailable).toMatchObject({ step: 3, tool: 'run_epochs' });
    expect(api.json.overview).toContain('Checkpoint unavailable (step 3');
    const page = await http('GET', `${server.base}/dashboard/episodes/${id}`);
    expect(page.text).toContain('id="checkpoint-unavailable"');
    const report = await http('GET', `${server.base}/dashboard/episodes/${id}/report.html`);
    expect(report.text).toContain(`The checkpoint of episode ${id} is unavailable`);
  });
});
