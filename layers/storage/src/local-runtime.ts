import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RETENTION_DAYS, retentionSecondsOfDays, type StorageConfig } from './config';
import { ensureBuckets, ensureEpisodeTable } from './provisioning';
import { createStorage, type Storage, type StorageOptions } from './storage';

/*
 * dynalite and s3rver ship no type declarations; they are loaded with require() and typed
 * here, narrowly, instead of with an ambient `declare module` another layer might repeat.
 */
type DynaliteFactory = (options: {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  vhostBuckets: boolean;
  resetOnClose: boolean;
}) => S3rverInstance;

export interface LocalRuntimeOptions {
  /**
   * Persist under this directory (dynalite's LevelDB in `dynamodb/`, s3rver's objects in
   * `s3/`) so episodes survive a restart. Omitted: dynalite in memory and s3rver in a
   * temporary directory that close() removes (tests).
   */
  dataDir?: string;
  /** Loopback by default. */
  host?: string;
  /** 0 (default): an ephemeral port. */
  dynamodbPort?: number;
  s3Port?: number;
  tableName?: string;
  checkpointBucket?: string;
  dataBucket?: string;
  reportsBucket?: string;
  region?: string;
  retentionDays?: number;
  /** Passed to the adapters (a test clock, the item-size safety limit, part sizes). */
  storage?: StorageOptions;
}

export interface LocalRuntime extends Storage {
  endpoints: { dynamodb: string; s3: string };
  dataDir: string | null;
}

export const LOCAL_DEFAULTS = {
  host: '127.0.0.1',
  tableName: 'ml-trainer-episodes',
  checkpointBucket: 'ml-trainer-checkpoints',
  dataBucket: 'ml-trainer-data',
  reportsBucket: 'ml-trainer-reports',
  region: 'us-east-1',
} as const;

const LOCK_FILE = 'runtime.lock';

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Two dynalite instances on one directory crash the process (LevelDB), so a data
 * directory is locked while a runtime uses it: a second runtime on it, in this process or
 * another live one, fails with a clear error instead. A lock left by a dead process is taken over.
 */
async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  const token = `${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2)}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, token, { flag: 'wx' });
      return async () => {
        const current = await readFile(path, 'utf8').catch(() => '');
        if (current === token) await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).split(':')[0]);
      if (Number.isInteger(holder) && holder > 0 && isProcessAlive(holder)) {
        throw new Error(`The data directory ${dir} is in use by another local runtime (process ${holder}); two cannot share it.`);
      }
      await rm(path, { force: true });
    }
  }
  throw new Error(`Could not lock the data directory ${dir}.`);
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((error?: Error) => (error ? reject(error) : resolve())));
}

/**
 * Starts dynalite and s3rver in this process on loopback, creates the table (with its
 * GSIs) and the buckets if missing, and returns the adapters over clients configured for
 * them (path-style S3, checksums only when required). close() stops everything.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const host = options.host ?? LOCAL_DEFAULTS.host;
  const cleanups: (() => Promise<void>)[] = [];
  const runCleanups = async () => {
    const errors: unknown[] = [];
    while (cleanups.length > 0) {
      try {
        await cleanups.pop()!();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  };
  try {
    let s3Dir: string;
    let dynamoDir: string | undefined;
    if (options.dataDir !== undefined) {
      await mkdir(options.dataDir, { recursive: true });
      cleanups.push(await lockDataDir(options.dataDir));
      dynamoDir = join(options.dataDir, 'dynamodb');
      s3Dir = join(options.dataDir, 's3');
      await mkdir(dynamoDir, { recursive: true });
      await mkdir(s3Dir, { recursive: true });
    } else {
      s3Dir = await mkdtemp(join(tmpdir(), 'ml-trainer-s3-'));
      const dir = s3Dir;
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
    }

    const dynalite = require('dynalite') as DynaliteFactory;
    const dynamoServer = dynalite({
      ...(dynamoDir ? { path: dynamoDir } : {}),
      createTableMs: 0,
      deleteTableMs: 0,
      updateTableMs: 0,
    });
    const dynamoAddress = await listen(dynamoServer, options.dynamodbPort ?? 0, host);
    cleanups.push(() => closeServer(dynamoServer));

    const S3rver = require('s3rver') as S3rverClass;
    const s3Server = new S3rver({
      address: host,
      port: options.s3Port ?? 0,
      directory: s3Dir,
      silent: true,
      vhostBuckets: false,
      resetOnClose: false,
    });
    const s3Address = await s3Server.run();
    cleanups.push(() => s3Server.close());

    const urlHost = host.includes(':') ? `[${host}]` : host;
    const endpoints = {
      dynamodb: `http://${urlHost}:${dynamoAddress.port}`,
      s3: `http://${urlHost}:${s3Address.port}`,
    };
    const config: StorageConfig = {
      region: options.region ?? LOCAL_DEFAULTS.region,
      tableName: options.tableName ?? LOCAL_DEFAULTS.tableName,
      checkpointBucket: options.checkpointBucket ?? LOCAL_DEFAULTS.checkpointBucket,
      dataBucket: options.dataBucket ?? LOCAL_DEFAULTS.dataBucket,
      reportsBucket: options.reportsBucket ?? LOCAL_DEFAULTS.reportsBucket,
      retentionSeconds: retentionSecondsOfDays(options.retentionDays ?? DEFAULT_RETENTION_DAYS),
      localEndpoint: true,
      dynamodbEndpoint: endpoints.dynamodb,
      s3Endpoint: endpoints.s3,
    };
    const storage = createStorage(config, options.storage);
    cleanups.push(() => storage.close());
    await ensureEpisodeTable(storage.clients.dynamodb, config.tableName);
    await ensureBuckets(storage.clients.s3, [config.checkpointBucket, config.dataBucket, config.reportsBucket ?? config.dataBucket]);

    let closed: Promise<void> | null = null;
    return {
      ...storage,
      endpoints,
      dataDir: options.dataDir ?? null,
      close() {
        closed ??= runCleanups();
        return closed;
      },
    };
  } catch (error) {
    await runCleanups().catch(() => undefined);
    throw error;
  }
}
