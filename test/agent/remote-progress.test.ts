import type { EpochProgress } from '../../layers/core/src';
import { StoredEpisodeService } from '../../layers/episodes/src';
import { formulaTrainerFactory } from '../../layers/testing/src';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { InProcessEnvironment, RestEnvironment, type EpisodeSession } from '../../layers/agent/src';
import { startCloud, type Cloud } from '../functions/helpers';
import { startServer, type RunningServer } from '../server/harness';
import { serveCloudApi } from './helpers/cloud-bridge';
import { epochGatedFactory } from './helpers/epoch-gated-trainers';

/**
 * A long step's epochs reach a REST client while the step runs (issue 14, item 6): from the
 * local server while the POST is in flight (polling the step's status), and from the cloud's
 * polls of an asynchronous step. Each epoch after the first trains only once the client
 * reported the one before, so a client that saw nothing live fails on `forced`, not on time.
 */

const EPOCHS = 4;

/** What an in-process episode's onEpoch reports for the same calls (the formula trainer is deterministic). */
async function inProcessEpochs(): Promise<EpochProgress[]> {
  const session = await new InProcessEnvironment(formulaTrainerFactory).startEpisode({ taskId: 'easy_mnist' });
  await session.call('configure_training', {});
  const epochs: EpochProgress[] = [];
  await session.call('run_epochs', { num_epochs: EPOCHS }, { onEpoch: (p) => epochs.push(p) });
  await session.close();
  return epochs;
}

const comparable = (p: EpochProgress) => ({ ...p, seconds: undefined });

/** Plays configure + run_epochs(EPOCHS), letting each epoch train once the client saw the previous one. */
async function trainWatched(session: EpisodeSession, gate: ReturnType<typeof epochGatedFactory>) {
  await session.call('configure_training', {});
  const before = gate.started;
  gate.allow(before + 1);
  const live: EpochProgress[] = [];
  let answered = false;
  let afterAnswer = 0;
  const outcome = await session.call(
    'run_epochs',
    { num_epochs: EPOCHS },
    {
      onEpoch: (p) => {
        if (answered) afterAnswer += 1;
        live.push(p);
        gate.allow(before + p.index + 1);
      },
    },
  );
  answered = true;
  return { outcome, live, afterAnswer };
}

describe('a remote step reports its epochs to the REST client as they finish', () => {
  let expected: EpochProgress[];
  beforeAll(async () => {
    expected = await inProcessEpochs();
  });

  describe('the local server (stored service on dynalite + s3rver): polled while the POST is in flight', () => {
    const gate = epochGatedFactory();
    let runtime: LocalRuntime;
    let server: RunningServer;
    beforeAll(async () => {
      runtime = await startLocalRuntime();
      const service = new StoredEpisodeService({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, trainers: gate.factory, logger: { warn: () => undefined } });
      server = await startServer({ service });
    });
    afterAll(async () => {
      gate.allowAll();
      await server?.close();
      await runtime?.close();
    });

    it('onEpoch sees every epoch but possibly the last before the POST answers, in order, each once, as in-process', async () => {
      const environment = new RestEnvironment({ url: server.base, tenantId: 'progress', progressPollIntervalMs: 20 });
      const session = await environment.startEpisode({ taskId: 'easy_mnist' });
      const { outcome, live, afterAnswer } = await trainWatched(session, gate);

      expect(outcome).toMatchObject({ error: null, data: { epochs_just_trained: EPOCHS } });
      expect(gate.forced).toBe(0);
      expect(afterAnswer).toBe(0);
      // Epochs 1..EPOCHS-1 gated the next one, so they were seen while it ran; the last may finish between two polls.
      expect(live.length).toBeGreaterThanOrEqual(EPOCHS - 1);
      expect(live.map(comparable)).toEqual(expected.slice(0, live.length).map(comparable));
    });
  });

  describe('the cloud api (real handlers, dynalite): a 202 step polled until done', () => {
    const gate = epochGatedFactory();
    let runtime: LocalRuntime;
    let cloud: Cloud;
    let bridge: Awaited<ReturnType<typeof serveCloudApi>>;
    beforeAll(async () => {
      runtime = await startLocalRuntime();
      // 1 s per epoch against a 1.5 s budget: every run_epochs runs asynchronously in the training handler.
      cloud = await startCloud({
        runtime,
        trainers: gate.factory,
        apiEnv: { SYNC_STEP_BUDGET_MS: '1500', STEP_SECONDS_PER_EPOCH: 'easy_mnist=1', STEP_OVERHEAD_MS: '1000', STEP_DATA_LOAD_MS: '0' },
      });
      bridge = await serveCloudApi(cloud);
    });
    afterAll(async () => {
      gate.allowAll();
      await bridge?.close();
      await cloud?.close();
      await runtime?.close();
    });

    it("onEpoch sees the epochs the training function wrote into the step's item, from the polls' progress", async () => {
      const statuses: string[] = [];
      const environment = new RestEnvironment({
        url: bridge.url,
        apiKey: 'tenant-progress',
        // The api's Retry-After is 5 s: poll faster here.
        maxPollIntervalMs: 20,
        onPending: (p) => statuses.push(p.status),
      });
      const session = await environment.startEpisode({ taskId: 'easy_mnist' });
      const { outcome, live, afterAnswer } = await trainWatched(session, gate);

      expect(statuses.length).toBeGreaterThan(0);
      expect(outcome).toMatchObject({ error: null, data: { epochs_just_trained: EPOCHS } });
      expect(gate.forced).toBe(0);
      expect(afterAnswer).toBe(0);
      expect(live.length).toBeGreaterThanOrEqual(EPOCHS - 1);
      expect(live.map(comparable)).toEqual(expected.slice(0, live.length).map(comparable));
    });
  });
});
