import { MAX_STEPS } from '../../layers/core/src';
import { EpisodeServiceError, type StepView } from '../../layers/episodes/src/episode-service';
import { StoredEpisodeService } from '../../layers/episodes/src/stored-episode-service';
import { checkpointPrefix } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { sequentialIds, steppingClock, testRuntime } from '../storage/helpers';
import { configure, instrumentedFactory, run } from './helpers';

const TENANT = 'tenant-c';
const WRITERS = 20;

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

function setup() {
  const trainers = instrumentedFactory();
  const service = new StoredEpisodeService({
    episodes: runtime.episodes,
    checkpoints: runtime.checkpoints,
    trainers,
    clock: steppingClock(),
    newId: sequentialIds(`c${Math.random().toString(36).slice(2, 8)}`),
  });
  return { service, trainers };
}

describe('concurrent steps on one episode', () => {
  it(`${WRITERS} overlapping steps: exactly one commits per version, the rest conflict, nothing is lost`, async () => {
    const { service, trainers } = setup();
    const { episode_id: episodeId } = await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    await service.step({ tenant: TENANT, episodeId, call: configure({ learning_rate: 0.0005 }) });
    // Every writer sends the same call: their checkpoints are byte-identical, which is exactly
    // the case where a loser must not delete the winner's object.
    trainers.delayMs = 40;
    const pending = new Set(Array.from({ length: WRITERS }, (_, i) => i));
    const committed = new Map<number, StepView>();
    const endedFor: number[] = [];
    let conflicts = 0;
    let rounds = 0;
    let attempts = 0;
    const roundConflicts: number[] = [];
    // Losers retry until they commit or the episode ends (15 steps: versions 2..15 for them):
    // two rounds with every pending writer at once, then one at a time (keeps the test fast).
    while (pending.size > 0) {
      rounds++;
      const batch = rounds <= 2 ? [...pending] : [...pending].slice(0, 1);
      const outcomes = await Promise.all(
        batch.map(async (writer) => {
          try {
            return { writer, view: await service.step({ tenant: TENANT, episodeId, call: run(1), requestId: `writer-${writer}` }) };
          } catch (error) {
            return { writer, error };
          }
        }),
      );
      attempts += outcomes.length;
      if (rounds <= 2) roundConflicts.push(outcomes.filter((o) => 'error' in o).length);
      for (const outcome of outcomes) {
        if ('view' in outcome) {
          pending.delete(outcome.writer);
          if (outcome.view!.error === null) committed.set(outcome.writer, outcome.view!);
          else {
            expect(outcome.view!.error.code).toBe('episode_over');
            endedFor.push(outcome.writer);
          }
        } else {
          expect(outcome.error).toBeInstanceOf(EpisodeServiceError);
          // Single flight: refused while the winner executes, without training (before issue 12: a conflict after training).
          expect((outcome.error as EpisodeServiceError).code).toBe('episode_busy');
          conflicts++;
        }
      }
      expect(rounds).toBeLessThanOrEqual(2 * WRITERS);
    }
    const steps = MAX_STEPS - 1; // the configure step was the first
    // Exactly one commit per version 2..15, none lost, none twice; the rest found the episode over.
    const versions = [...committed.values()].map((v) => v.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: steps }, (_, i) => i + 2));
    expect(endedFor).toHaveLength(WRITERS - steps);
    expect(committed.size + endedFor.length + conflicts).toBe(attempts);
    // The concurrent attempts really overlapped: (nearly) all read the same version, one won it.
    expect(roundConflicts[0]).toBeGreaterThanOrEqual(WRITERS / 2);
    expect(roundConflicts[1]).toBeGreaterThanOrEqual((WRITERS - 1) / 2);
    const episode = await service.getEpisode(TENANT, episodeId);
    expect(episode).toMatchObject({ version: MAX_STEPS, step_count: MAX_STEPS, status: 'auto_submitted' });
    expect(episode.record.budget_used).toBe(steps);
    expect(episode.record.model.current_epoch).toBe(steps);
    expect(episode.usage).toMatchObject({ steps: MAX_STEPS, epochs_trained: steps });
    // Each committed step's stored result is there, at the version it committed.
    const item = (await runtime.episodes.get(TENANT, episodeId))!;
    for (const [writer, view] of committed) expect(item.results[`writer-${writer}`].version).toBe(view.version);
    expect(Object.keys(item.results)).toHaveLength(steps);
    // The checkpoint survived every loser's clean-up and verifies; no orphan is left.
    const objects = await runtime.checkpoints.listAll(checkpointPrefix(TENANT, episodeId));
    expect(objects.map((o) => o.key)).toEqual([item.checkpoint!.key]);
    const state = JSON.parse(new TextDecoder().decode(await runtime.checkpoints.getCheckpoint(item.checkpoint!)));
    expect(state.epochs).toBe(steps);
    expect(trainers.counts.live).toBe(0);
  });

  it('the same request_id sent concurrently commits once and every copy gets its result', async () => {
    const { service, trainers } = setup();
    const { episode_id: episodeId } = await service.createEpisode({ tenant: TENANT, taskId: 'easy_mnist' });
    await service.step({ tenant: TENANT, episodeId, call: configure() });
    trainers.delayMs = 25;
    const views = await Promise.all(Array.from({ length: 5 }, () => service.step({ tenant: TENANT, episodeId, call: run(2), requestId: 'dup' })));
    expect(new Set(views.map((v) => v.version))).toEqual(new Set([2]));
    expect(views.filter((v) => !v.replayed)).toHaveLength(1);
    const { replayed: _r, ...first } = views.find((v) => !v.replayed)!;
    for (const view of views) expect({ ...view, replayed: false }).toEqual({ ...first, replayed: false });
    expect(await service.getEpisode(TENANT, episodeId)).toMatchObject({ version: 2, usage: { epochs_trained: 2 } });
  });
});
