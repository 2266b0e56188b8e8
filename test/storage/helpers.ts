import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../layers/storage/src/local-runtime';
import { createEpisode } from '../../layers/core/src';
import { createStorageClients, EpisodeStore, type StoredEpisode } from '../../layers/storage/src';

/** Temporary directories of one test file, removed by cleanup(). */
export function tempDirs(prefix: string) {
  const made: string[] = [];
  return {
    async make(): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
      made.push(dir);
      return dir;
    },
    async cleanup(): Promise<void> {
      await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

/** A runtime on loopback (dynalite in memory unless dataDir is given), closed by the returned stop(). */
export async function testRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  return startLocalRuntime(options);
}

/** A clock that starts at a fixed instant and moves one second per reading. */
export function steppingClock(start = '2030-01-02T03:04:05.000Z', stepMs = 1000) {
  let t = Date.parse(start);
  const clock = () => {
    const now = new Date(t);
    t += stepMs;
    return now;
  };
  return Object.assign(clock, {
    set(iso: string) {
      t = Date.parse(iso);
    },
    advance(ms: number) {
      t += ms;
    },
  });
}

/** Sequential ids with a prefix: deterministic and valid as keys. */
export function sequentialIds(prefix = 'id') {
  let n = 0;
  return () => `${prefix}-${String(++n).padStart(6, '0')}`;
}

/**
 * An EpisodeStore of its own on the runtime's table, at a fixed time, that counts the requests
 * it sends (to show that an answer needed none); close() destroys its clients.
 */
export function countingEpisodeStore(runtime: LocalRuntime, now: string) {
  const clients = createStorageClients(runtime.config);
  let requests = 0;
  clients.documents.middlewareStack.add(
    (next) => async (args) => {
      requests += 1;
      return next(args);
    },
    { step: 'initialize' },
  );
  const store = new EpisodeStore(clients.documents, { tableName: runtime.config.tableName, retentionSeconds: runtime.config.retentionSeconds, clock: () => new Date(now) });
  return { store, requests: () => requests, close: () => clients.dynamodb.destroy() };
}

/** A new episode item as the store takes it (easy_mnist, version 0, nothing trained), with the fields a test needs changed. */
export function storedEpisode(tenant: string, id: string, overrides: Partial<StoredEpisode> = {}): StoredEpisode {
  return {
    tenant,
    episode_id: id,
    version: 0,
    created_at: '2030-01-02T03:04:05.000Z',
    updated_at: '2030-01-02T03:04:05.000Z',
    record: createEpisode('easy_mnist'),
    checkpoint: null,
    usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
    results: {},
    commit_id: `c-${id}-0`,
    ended_at: null,
    ...overrides,
  };
}
