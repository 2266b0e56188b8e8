import { BlobStore, type BlobStoreOptions } from './blob-store';
import { createStorageClients, storageConfigFromEnv, type StorageClients, type StorageConfig } from './config';
import { EpisodeStore } from './episode-store';

/** The adapters over one configuration: what the service, the server and the Lambdas use. */
export interface Storage {
  config: StorageConfig;
  clients: StorageClients;
  episodes: EpisodeStore;
  /** Trainer checkpoints. */
  checkpoints: BlobStore;
  /** Datasets. */
  data: BlobStore;
  /** Batch reports (the data bucket unless a reports bucket is configured). */
  reports: BlobStore;
  /** Closes the clients (the local runtime also stops its servers). */
  close(): Promise<void>;
}

export interface StorageOptions {
  clock?: () => Date;
  maxItemBytes?: number;
  blobs?: BlobStoreOptions;
}

export function createStorage(config: StorageConfig, options: StorageOptions = {}): Storage {
  const clients = createStorageClients(config);
  return {
    config,
    clients,
    episodes: new EpisodeStore(clients.documents, {
      tableName: config.tableName,
      retentionSeconds: config.retentionSeconds,
      ...(options.maxItemBytes !== undefined ? { maxItemBytes: options.maxItemBytes } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    }),
    checkpoints: new BlobStore(clients.s3, config.checkpointBucket, options.blobs),
    data: new BlobStore(clients.s3, config.dataBucket, options.blobs),
    reports: new BlobStore(clients.s3, config.reportsBucket ?? config.dataBucket, options.blobs),
    async close() {
      clients.destroy();
    },
  };
}

/** For a Lambda handler: the storage its environment names (see storageConfigFromEnv). */
export function createStorageFromEnv(env: NodeJS.ProcessEnv = process.env, options: StorageOptions = {}): Storage {
  return createStorage(storageConfigFromEnv(env), options);
}
