import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EpisodeStore, StoredEpisode } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { steppingClock, storedEpisode, testRuntime } from './helpers';

/** The bookkeeping notes layers/cloud writes beside an episode's record, and reads back with it (dynalite). */
const TENANT = 'tenant-notes';

const episode = (id: string): StoredEpisode => storedEpisode(TENANT, id);

describe('episode notes (EpisodeStore on dynalite)', () => {
  let runtime: LocalRuntime;
  let store: EpisodeStore;

  beforeAll(async () => {
    runtime = await testRuntime({ storage: { clock: steppingClock('2030-01-02T03:04:05.000Z', 0) } });
    store = runtime.episodes;
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('reads back with the episode: none before any note, then every note written', async () => {
    const stored = episode('ep-read');
    await store.insert(store.prepare(stored));
    expect(await store.getWithNotes(TENANT, 'ep-read')).toStrictEqual({ episode: stored, notes: {} });

    expect(await store.noteIfAtVersion(TENANT, 'ep-read', 0, { graded_at: '2030-01-02T04:00:00.000Z', graded_by: 'api', grade_matches: false })).toBe(true);
    expect(await store.getWithNotes(TENANT, 'ep-read')).toStrictEqual({
      episode: stored,
      notes: { graded_at: '2030-01-02T04:00:00.000Z', graded_by: 'api', grade_matches: false },
    });
    expect(await store.noteIfAtVersion(TENANT, 'ep-read', 0, { auto_submitted_by: 'run-7', grade_matches: true })).toBe(true);
    expect((await store.getWithNotes(TENANT, 'ep-read'))!.notes).toStrictEqual({
      graded_at: '2030-01-02T04:00:00.000Z',
      graded_by: 'api',
      grade_matches: true,
      auto_submitted_by: 'run-7',
    });
  });

  it('leaves out a note attribute of another type than a note has', async () => {
    await store.insert(store.prepare(episode('ep-odd')));
    await runtime.clients.documents.send(
      new UpdateCommand({
        TableName: runtime.config.tableName,
        Key: { pk: `episode#${TENANT}#ep-odd`, sk: 'episode' },
        UpdateExpression: 'SET graded_at = :n, graded_by = :b, grade_matches = :s, auto_submitted_by = :m',
        ExpressionAttributeValues: { ':n': 5, ':b': true, ':s': 'yes', ':m': { run: 'r' } },
      }),
    );
    expect((await store.getWithNotes(TENANT, 'ep-odd'))!.notes).toStrictEqual({});
  });

  it('is null for a missing episode', async () => {
    expect(await store.getWithNotes(TENANT, 'ep-missing')).toBeNull();
  });

  it('nothing to note is done at once, and changes nothing', async () => {
    const stored = episode('ep-empty');
    await store.insert(store.prepare(stored));
    expect(await store.noteIfAtVersion(TENANT, 'ep-empty', 0, {})).toBe(true);
    expect(await store.noteIfAtVersion(TENANT, 'ep-empty', 0, { auto_submitted_by: undefined })).toBe(true);
    expect(await store.getWithNotes(TENANT, 'ep-empty')).toStrictEqual({ episode: stored, notes: {} });
  });
});
