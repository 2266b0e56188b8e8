import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { createEpisode } from '../../layers/core/src';
import { StorageError, type StoredEpisode } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { steppingClock, testRuntime } from '../storage/helpers';
import { hostileValue } from './hostile-json';
import { countsReport, holds, record, settings, track } from './tally';

/*
 * The pending trainer calls an episode item carries (`trainer_ops`, written by the api
 * function, replayed by the next training step) are read back from the table like the
 * record: whatever the attribute holds, a read gives valid operations or a StorageError
 * invalid_item naming the item, with a bounded message (embedded DynamoDB).
 */

afterAll(() => console.log(countsReport()));

const VALID = [
  { op: 'build_model', config: { optimizer: 'adam', learning_rate: 0.001, batch_size: 64, weight_decay: 0, dropout: 0, lr_schedule: 'constant', augmentation: false, augmentation_strength: 0.5 } },
  { op: 'set_augmentation', enabled: true, strength: 0.3 },
];

/** Any JSON value as the operations, the valid list with one operation replaced, or text that is not JSON. */
const attribute = fc.oneof(
  hostileValue.map((v) => JSON.stringify(v) ?? 'null'),
  fc.tuple(fc.nat(VALID.length - 1), hostileValue).map(([i, v]) => JSON.stringify(VALID.map((op, j) => (i === j ? v : op)))),
  fc.string({ maxLength: 200 }),
  fc.constant(JSON.stringify(VALID)),
);

describe('hostile input: stored pending trainer calls', () => {
  let runtime: LocalRuntime;
  let raw: Record<string, unknown>;
  const id = 'ep-trainer-ops';

  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock: steppingClock('2030-01-02T03:04:05.000Z', 0) } });
    const stored: StoredEpisode = {
      tenant: 'tenant-a',
      episode_id: id,
      version: 0,
      created_at: '2030-01-02T03:04:05.000Z',
      updated_at: '2030-01-02T03:04:05.000Z',
      record: createEpisode('easy_mnist'),
      checkpoint: null,
      usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
      results: {},
      commit_id: `c-${id}`,
      ended_at: null,
    };
    await runtime.episodes.insert(runtime.episodes.prepare(stored));
    raw = (await runtime.clients.documents.send(new GetCommand({ TableName: runtime.config.tableName, Key: { pk: `episode#tenant-a#${id}`, sk: 'episode' } }))).Item!;
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('any trainer_ops attribute: read as valid operations, or refused as invalid_item with a bounded message', async () => {
    await holds(
      fc.asyncProperty(attribute, async (text) =>
        track(
          (async () => {
            await runtime.clients.documents.send(new PutCommand({ TableName: runtime.config.tableName, Item: { ...raw, trainer_ops: text } }));
            try {
              const read = await runtime.episodes.get('tenant-a', id);
              const ok = read !== null && (read.trainer_ops === undefined || read.trainer_ops.length <= 15);
              const problems = record('stored trainer_ops', { verdict: ok ? 'accepted' : 'server_error', summary: 'read' }, false);
              if (problems.length > 0) throw new Error(problems.join('\n'));
            } catch (error) {
              const ok = error instanceof StorageError && error.code === 'invalid_item' && error.message.length <= 4_000;
              const problems = record('stored trainer_ops', { verdict: ok ? 'rejected' : 'server_error', summary: String(error).slice(0, 200) }, false);
              if (problems.length > 0) throw new Error(problems.join('\n'));
            }
          })(),
        ),
      ),
      settings(150, 20_000),
    );
  });
});
