import { createEpisode } from '../../layers/core/src';
import { createStorageClients, storageConfigFromEnv, type StoredEpisode } from '../../layers/storage/src';
import { startLocalRuntime } from '../../layers/storage/src/local-runtime';
import { tempDirs } from './helpers';

const dirs = tempDirs('ml-trainer-runtime');
afterAll(() => dirs.cleanup());

function episode(id: string): StoredEpisode {
  return {
    tenant: 'tenant-a',
    episode_id: id,
    version: 0,
    created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
    record: createEpisode('easy_mnist'),
    checkpoint: null,
    usage: { steps: 0, epochs_trained: 0, training_seconds: 0 },
    results: {},
    commit_id: 'c0',
    ended_at: null,
  };
}

describe('the local runtime', () => {
  it('keeps the table and objects in a data directory across a restart', async () => {
    const dataDir = await dirs.make();
    const first = await startLocalRuntime({ dataDir });
    expect(first.endpoints.dynamodb).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const stored = episode('ep-persisted');
    await first.episodes.insert(first.episodes.prepare(stored));
    await first.data.put('reports/r.txt', 'kept');
    await first.close();

    const second = await startLocalRuntime({ dataDir });
    try {
      expect(await second.episodes.get('tenant-a', 'ep-persisted')).toEqual(stored);
      expect(new TextDecoder().decode((await second.data.get('reports/r.txt'))!)).toBe('kept');
      expect((await second.episodes.listByTenant('tenant-a')).items.map((e) => e.episode_id)).toEqual(['ep-persisted']);
    } finally {
      await second.close();
    }
  });

  it('refuses a second runtime on a data directory in use, and frees it on close', async () => {
    const dataDir = await dirs.make();
    const first = await startLocalRuntime({ dataDir });
    await expect(startLocalRuntime({ dataDir })).rejects.toThrow(/in use by another local runtime/);
    await first.close();
    await first.close(); // idempotent
    const again = await startLocalRuntime({ dataDir });
    await again.close();
  });

  it('starts in memory on ephemeral ports, independent instances side by side', async () => {
    const [a, b] = await Promise.all([startLocalRuntime(), startLocalRuntime()]);
    try {
      expect(a.endpoints.dynamodb).not.toBe(b.endpoints.dynamodb);
      await a.episodes.insert(a.episodes.prepare(episode('only-in-a')));
      expect(await b.episodes.get('tenant-a', 'only-in-a')).toBeNull();
      expect(a.config).toMatchObject({ localEndpoint: true, region: 'us-east-1' });
      expect(await a.clients.s3.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
      expect(await a.clients.s3.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('storageConfigFromEnv (the Lambdas)', () => {
  it('reads table, buckets, region and retention; keeps SDK defaults for AWS', async () => {
    const config = storageConfigFromEnv({
      EPISODES_TABLE: 'episodes',
      CHECKPOINT_BUCKET: 'ckpt',
      DATA_BUCKET: 'data',
      AWS_REGION: 'eu-west-1',
      EPISODE_RETENTION_DAYS: '7',
      REPORTS_BUCKET: 'reports',
    });
    expect(config).toEqual({
      region: 'eu-west-1',
      tableName: 'episodes',
      checkpointBucket: 'ckpt',
      dataBucket: 'data',
      reportsBucket: 'reports',
      retentionSeconds: 7 * 86400,
      localEndpoint: false,
    });
    const clients = createStorageClients(config);
    try {
      // No endpoint override and no path-style addressing against AWS.
      expect(clients.s3.config.forcePathStyle).toBeFalsy();
      expect(await clients.s3.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
      expect(await clients.s3.config.responseChecksumValidation()).toBe('WHEN_SUPPORTED');
    } finally {
      clients.destroy();
    }
  });

  it('names every missing or malformed variable at once', () => {
    expect(() => storageConfigFromEnv({ EPISODE_RETENTION_DAYS: 'soon' })).toThrow(
      /EPISODES_TABLE is not set; CHECKPOINT_BUCKET is not set; DATA_BUCKET is not set; AWS_REGION \(or AWS_DEFAULT_REGION\) is not set; EPISODE_RETENTION_DAYS must be a positive number/,
    );
  });

  it('can point at compatible local servers', () => {
    const config = storageConfigFromEnv({
      EPISODES_TABLE: 't',
      CHECKPOINT_BUCKET: 'c',
      DATA_BUCKET: 'd',
      AWS_DEFAULT_REGION: 'us-east-1',
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
      S3_ENDPOINT: 'http://127.0.0.1:4569',
      LOCAL_ENDPOINT: '1',
    });
    expect(config).toMatchObject({ localEndpoint: true, dynamodbEndpoint: 'http://127.0.0.1:8000', s3Endpoint: 'http://127.0.0.1:4569' });
  });
});
