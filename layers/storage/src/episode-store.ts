import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { agentLabelSchema, parseEpisodeRecord, trainerOperationsSchema, type AgentLabel, type EpisodeRecord, type TrainerOperation } from '../../core/src';
import type { CheckpointPointer } from './blob-store';
import { isConditionFailure, StorageError } from './errors';
import { DYNAMODB_ITEM_LIMIT_BYTES, estimateItemBytes } from './item-size';
import { mergeSortedPages, refineOrder } from './sorted-merge';
import { endedIndexPartitionOf, endedIndexPartitionsOfDay, episodeKey, isValidId, parseEpisodePartitionKey, utcDayOf } from './table-keys';
import { TABLE_LAYOUT, type EpisodeItemAttribute } from './table-layout';

/** Resource use of one episode, summed over its committed steps. */
export interface StoredUsage {
  steps: number;
  epochs_trained: number;
  training_seconds: number;
}

/** The stored outcome of a step that carried a request_id, for replaying it. */
export interface StoredStepResult {
  /** SHA-256 of the canonical call: the same request_id with another call is refused. */
  call_sha256: string;
  /** The version the step committed. */
  version: number;
  /** The step's result as the service returned it (JSON). */
  view: string;
}

/**
 * The stored result of a request_id, if the episode has one. Only the map's own entries
 * count: a request_id may be any key-safe id, "constructor" or "toString" included, and a
 * plain lookup would find Object.prototype's members there.
 */
export function storedResultOf(episode: Pick<StoredEpisode, 'results'>, requestId: string): StoredStepResult | undefined {
  return Object.hasOwn(episode.results, requestId) ? episode.results[requestId] : undefined;
}

/** One episode as stored: the core's record plus everything the service keeps beside it. */
export interface StoredEpisode {
  tenant: string;
  episode_id: string;
  /** +1 per committed step; every write is conditional on the version it read. */
  version: number;
  created_at: string;
  updated_at: string;
  /** The core's episode record: the stored trainer metrics the grader reads. */
  record: EpisodeRecord;
  /** The trainer checkpoint after the last committed step; null before the first. */
  checkpoint: CheckpointPointer | null;
  /**
   * Trainer calls made since the checkpoint by steps that ran without a trainer (the cloud's
   * api function): the trainer's state is the checkpoint with these replayed in order.
   * Absent: none.
   */
  trainer_ops?: readonly TrainerOperation[];
  usage: StoredUsage;
  /** request_id → stored result of the step it committed. */
  results: Record<string, StoredStepResult>;
  /** Id of the write that produced this version: a writer recognises its own commit after an ambiguous failure. */
  commit_id: string;
  /** When the episode ended (submitted or auto-submitted); null while active. */
  ended_at: string | null;
}

/**
 * Single flight: the claim of the one step executing on an episode. Set by acquireLease
 * without a new version; the step's commit replaces the item without it; a crashed
 * executor's lease lapses at expires_at.
 */
export interface EpisodeLease {
  /** Who holds the lease: an id the executing step draws for its claim (not its commit id); renewals and releases name it. */
  holder: string;
  /** The executing step's request_id (null without one): a duplicate waits for its result. */
  request_id: string | null;
  /** callSha256 of the executing call: the same request_id with another call is a conflict, not a duplicate. */
  call_sha256: string;
  /** ISO time, by the store's clock, after which the lease is void. */
  expires_at: string;
}

/** An episode's version and its live lease (null: none, or lapsed). */
export interface EpisodeLeaseState {
  version: number;
  lease: EpisodeLease | null;
}

/** A tenant's episode as the listing GSI projects it (no record, no results). */
export interface StoredEpisodeSummary {
  episode_id: string;
  tenant: string;
  task_id: string;
  seed: number;
  status: EpisodeRecord['status'];
  step_count: number;
  best_val_accuracy: number;
  score: number | null;
  /** Who played it (the record's label); null when unlabelled. */
  agent: AgentLabel | null;
  /** Optimistic-locking version: +1 per committed step. */
  version: number;
  created_at: string;
  updated_at: string;
}

/** The summary attributes of an episode, derived from its record (what listings project). */
export function storedEpisodeSummary(episode: StoredEpisode): StoredEpisodeSummary {
  const record = episode.record;
  return {
    episode_id: episode.episode_id,
    tenant: episode.tenant,
    task_id: record.task_id,
    seed: record.seed,
    status: record.status,
    step_count: record.step_count,
    best_val_accuracy: record.model.best_val_accuracy,
    score: record.grade?.score ?? null,
    agent: record.agent ?? null,
    version: episode.version,
    created_at: episode.created_at,
    updated_at: episode.updated_at,
  };
}

/** An ended episode as the end-time GSI projects it. */
export interface EndedEpisodeRef {
  tenant: string;
  episode_id: string;
  task_id: string;
  ended_at: string;
  score: number | null;
  /** Set (to the run id) when a batch run auto-submitted the episode (layers/cloud); absent otherwise. */
  auto_submitted_by?: string;
}

/** A tenant's episode with its resource use, as the by-tenant GSI projects it (usage reports). */
export interface EpisodeUsageRow {
  tenant: string;
  episode_id: string;
  task_id: string;
  status: EpisodeRecord['status'];
  created_at: string;
  updated_at: string;
  usage: StoredUsage;
}

/** An item built and size-checked, ready to be written. */
export interface PreparedEpisode {
  readonly episode: StoredEpisode;
  readonly item: Record<string, unknown>;
  readonly estimatedBytes: number;
}

export interface EpisodeStoreOptions {
  tableName: string;
  /** Seconds an episode is kept after its last write (TTL attribute `expires_at`). */
  retentionSeconds: number;
  /** Writes estimated above this are refused before anything is sent (default 300 KiB, DynamoDB's limit is 400 KiB). */
  maxItemBytes?: number;
  clock?: () => Date;
}

export const DEFAULT_MAX_ITEM_BYTES = 300 * 1024;
const ITEM_SCHEMA = 1;
const LIST_LIMIT_MAX = 100;
/** Rows per Query page of one end-time index stream (endedEpisodes' pageSize): default and most. */
const ENDED_PAGE_DEFAULT = 100;
const ENDED_PAGE_MAX = 1000;

/** An episode item as written: only the table layout's attribute names. */
type EpisodeItem = Partial<Record<EpisodeItemAttribute, unknown>>;

/** Bookkeeping that layers/cloud notes on an episode item beside the record (grading, auto-submission). */
export interface EpisodeNotes {
  /** Set once: a later note keeps the first value. */
  graded_at?: string;
  /** Set once: a later note keeps the first value. */
  graded_by?: string;
  grade_matches?: boolean;
  auto_submitted_by?: string;
}

const SET_ONCE_NOTES: ReadonlySet<keyof EpisodeNotes> = new Set(['graded_at', 'graded_by']);

/** The notes an item carries (attributes of another type are left out). */
function notesOf(item: Record<string, unknown>): EpisodeNotes {
  const text = (name: 'graded_at' | 'graded_by' | 'auto_submitted_by') => (typeof item[name] === 'string' ? { [name]: item[name] as string } : {});
  return { ...text('graded_at'), ...text('graded_by'), ...(typeof item.grade_matches === 'boolean' ? { grade_matches: item.grade_matches } : {}), ...text('auto_submitted_by') };
}

function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new StorageError('invalid_cursor', 'The cursor is not one this service handed out.');
  }
}

/**
 * Episodes in DynamoDB, one item per episode. Every write is a single conditional PutItem
 * (no transactions: dynalite has none, and one item needs none): a new episode only where
 * none exists, a step only on the version it read. Reads are scoped to the tenant through
 * the key, so another tenant's episode id simply does not exist. Items past their expiry
 * are treated as absent (TTL deletes them lazily on AWS, never on dynalite).
 */
export class EpisodeStore {
  readonly tableName: string;
  readonly retentionSeconds: number;
  readonly maxItemBytes: number;
  private readonly clock: () => Date;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    options: EpisodeStoreOptions,
  ) {
    this.tableName = options.tableName;
    this.retentionSeconds = options.retentionSeconds;
    this.maxItemBytes = Math.min(options.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES, DYNAMODB_ITEM_LIMIT_BYTES);
    this.clock = options.clock ?? (() => new Date());
  }

  /** Builds the item and checks its size. Throws StorageError('item_too_large') with nothing written. */
  prepare(episode: StoredEpisode): PreparedEpisode {
    if (!isValidId(episode.tenant)) throw new StorageError('invalid_key', `Invalid tenant id ${JSON.stringify(episode.tenant)}.`);
    if (!isValidId(episode.episode_id)) throw new StorageError('invalid_key', `Invalid episode id ${JSON.stringify(episode.episode_id)}.`);
    const record = episode.record;
    const updated = new Date(episode.updated_at);
    const { agent, ...summary } = storedEpisodeSummary(episode);
    const item: EpisodeItem = {
      ...episodeKey(episode.tenant, episode.episode_id),
      item_schema: ITEM_SCHEMA,
      ...summary,
      // Sparse: an unlabelled episode's item has no agent attribute, like the items written before labels.
      ...(agent === null ? {} : { agent }),
      expires_at: Math.floor(updated.getTime() / 1000) + this.retentionSeconds,
      // The record as JSON text: exact, and immune to DynamoDB's limits on nesting and empty names.
      record: JSON.stringify(record),
      checkpoint: episode.checkpoint,
      ...(episode.trainer_ops !== undefined && episode.trainer_ops.length > 0 ? { trainer_ops: JSON.stringify(episode.trainer_ops) } : {}),
      usage: episode.usage,
      results: encodeResults(episode.results),
      commit_id: episode.commit_id,
    };
    if (episode.ended_at !== null) {
      // Sparse GSI: only ended episodes carry these attributes.
      item.ended_at = episode.ended_at;
      item.ended_day = endedIndexPartitionOf(episode.tenant, episode.episode_id, episode.ended_at);
    }
    const estimatedBytes = estimateItemBytes(item);
    if (estimatedBytes > this.maxItemBytes) {
      throw new StorageError(
        'item_too_large',
        `Episode ${episode.episode_id} would need about ${estimatedBytes} bytes in DynamoDB, above the ${this.maxItemBytes}-byte safety limit ` +
          `(record ${Buffer.byteLength(item.record as string)} bytes, ${Object.keys(episode.results).length} stored step results); nothing was written.`,
        { estimated_bytes: estimatedBytes, limit_bytes: this.maxItemBytes },
      );
    }
    return { episode, item, estimatedBytes };
  }

  /** Writes a new episode; StorageError('conflict') if its key exists. */
  async insert(prepared: PreparedEpisode): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: prepared.item,
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': TABLE_LAYOUT.partitionKey.name },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new StorageError('conflict', `Episode ${prepared.episode.episode_id} already exists.`);
      }
      throw error;
    }
  }

  /**
   * Replaces the episode if, and only if, it is still at expectedVersion (and, with
   * `unleased`, holds no live lease by this store's clock). A competing writer that committed
   * first, or a live lease, makes this a StorageError('conflict') that wrote nothing.
   */
  async commit(prepared: PreparedEpisode, expectedVersion: number, options: { unleased?: boolean } = {}): Promise<void> {
    const unleased = options.unleased === true;
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: prepared.item,
          ConditionExpression: unleased ? '#version = :expected AND (attribute_not_exists(#lease) OR #lease.#expires <= :now)' : '#version = :expected',
          ExpressionAttributeNames: {
            '#version': TABLE_LAYOUT.versionAttribute,
            ...(unleased ? { '#lease': TABLE_LAYOUT.leaseAttribute, '#expires': 'expires_at' } : {}),
          },
          ExpressionAttributeValues: { ':expected': expectedVersion, ...(unleased ? { ':now': this.clock().toISOString() } : {}) },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        const why = unleased ? `is no longer at version ${expectedVersion}, or another step holds its lease` : `is no longer at version ${expectedVersion}`;
        throw new StorageError('conflict', `Episode ${prepared.episode.episode_id} ${why}.`, {
          expected_version: expectedVersion,
        });
      }
      throw error;
    }
  }

  /**
   * Adds notes to the episode item if it is still at `version`, leaving the record and the
   * version as they are; false when a commit moved the episode on meanwhile (or it is gone).
   */
  async noteIfAtVersion(tenant: string, episodeId: string, version: number, notes: EpisodeNotes): Promise<boolean> {
    if (!isValidId(tenant) || !isValidId(episodeId)) return false;
    const entries = Object.entries(notes).filter(([, value]) => value !== undefined) as [keyof EpisodeNotes, unknown][];
    const names: Record<string, string> = { '#version': TABLE_LAYOUT.versionAttribute };
    const values: Record<string, unknown> = { ':version': version };
    const assignments = entries.map(([name, value], i) => {
      names[`#n${i}`] = name;
      values[`:n${i}`] = value;
      return SET_ONCE_NOTES.has(name) ? `#n${i} = if_not_exists(#n${i}, :n${i})` : `#n${i} = :n${i}`;
    });
    if (assignments.length === 0) return true;
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: episodeKey(tenant, episodeId),
          UpdateExpression: `SET ${assignments.join(', ')}`,
          ConditionExpression: '#version = :version',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Sets `lease` (expiring durationMs from now by this store's clock) if the episode is
   * still at `version` and holds no live lease; the version and everything else stay as
   * they are. Null when that holds, else the episode's current version and live lease
   * (null when the episode is gone).
   */
  async acquireLease(
    tenant: string,
    episodeId: string,
    version: number,
    lease: Omit<EpisodeLease, 'expires_at'>,
    durationMs: number,
  ): Promise<{ acquired: EpisodeLease } | { refused: EpisodeLeaseState | null }> {
    if (!isValidId(tenant) || !isValidId(episodeId)) return { refused: null };
    const now = this.clock();
    const acquired: EpisodeLease = { ...lease, expires_at: new Date(now.getTime() + durationMs).toISOString() };
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: episodeKey(tenant, episodeId),
          UpdateExpression: 'SET #lease = :lease',
          ConditionExpression: '#version = :version AND (attribute_not_exists(#lease) OR #lease.#expires <= :now)',
          ExpressionAttributeNames: { '#lease': TABLE_LAYOUT.leaseAttribute, '#version': TABLE_LAYOUT.versionAttribute, '#expires': 'expires_at' },
          ExpressionAttributeValues: { ':lease': acquired, ':version': version, ':now': now.toISOString() },
        }),
      );
      return { acquired };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { refused: await this.readLease(tenant, episodeId) };
    }
  }

  /** Removes the lease if `holder` still holds it (a step that failed before its commit); false when it does not. */
  async releaseLease(tenant: string, episodeId: string, holder: string): Promise<boolean> {
    if (!isValidId(tenant) || !isValidId(episodeId)) return false;
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: episodeKey(tenant, episodeId),
          UpdateExpression: 'REMOVE #lease',
          ConditionExpression: '#lease.#holder = :holder',
          ExpressionAttributeNames: { '#lease': TABLE_LAYOUT.leaseAttribute, '#holder': 'holder' },
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Extends `holder`'s lease to durationMs from now (by this store's clock) if it still holds
   * a live one: the heartbeat of an executing step. Null when it does not (released, replaced
   * by a commit, lapsed, or taken by another step after it lapsed): a lapsed lease is void
   * even if nobody took it yet, so the step must not count on it.
   */
  async renewLease(tenant: string, episodeId: string, holder: string, durationMs: number): Promise<{ expires_at: string } | null> {
    if (!isValidId(tenant) || !isValidId(episodeId)) return null;
    const now = this.clock();
    const expiresAt = new Date(now.getTime() + durationMs).toISOString();
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: episodeKey(tenant, episodeId),
          UpdateExpression: 'SET #lease.#expires = :expires',
          ConditionExpression: '#lease.#holder = :holder AND #lease.#expires > :now',
          ExpressionAttributeNames: { '#lease': TABLE_LAYOUT.leaseAttribute, '#holder': 'holder', '#expires': 'expires_at' },
          ExpressionAttributeValues: { ':holder': holder, ':now': now.toISOString(), ':expires': expiresAt },
        }),
      );
      return { expires_at: expiresAt };
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  /** The episode's version and live lease, reading only those (strongly consistent); null when the episode is gone. */
  async readLease(tenant: string, episodeId: string): Promise<EpisodeLeaseState | null> {
    if (!isValidId(tenant) || !isValidId(episodeId)) return null;
    const output = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: episodeKey(tenant, episodeId),
        ConsistentRead: true,
        ProjectionExpression: '#tenant, #version, #ttl, #lease',
        ExpressionAttributeNames: {
          '#tenant': 'tenant',
          '#version': TABLE_LAYOUT.versionAttribute,
          '#ttl': TABLE_LAYOUT.ttlAttribute,
          '#lease': TABLE_LAYOUT.leaseAttribute,
        },
      }),
    );
    const item = output.Item;
    if (!item || item.tenant !== tenant || this.isExpired(item)) return null;
    return { version: item.version as number, lease: this.liveLease(item) };
  }

  /** The item's lease unless it has lapsed by the store's clock. */
  private liveLease(item: Record<string, unknown>): EpisodeLease | null {
    const lease = (item[TABLE_LAYOUT.leaseAttribute] as EpisodeLease | undefined) ?? null;
    return lease !== null && lease.expires_at > this.clock().toISOString() ? lease : null;
  }

  /** The tenant's episode, or null (missing, another tenant's, or expired). Strongly consistent by default. */
  async get(tenant: string, episodeId: string, options: { consistent?: boolean } = {}): Promise<StoredEpisode | null> {
    const item = await this.liveItem(tenant, episodeId, options.consistent ?? true);
    return item === null ? null : this.decode(item);
  }

  /** The tenant's live episode item as stored, or null (an invalid id, missing, another tenant's, or expired). */
  private async liveItem(tenant: string, episodeId: string, consistent = true): Promise<Record<string, unknown> | null> {
    if (!isValidId(tenant) || !isValidId(episodeId)) return null;
    const output = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: episodeKey(tenant, episodeId), ConsistentRead: consistent }));
    const item = output.Item;
    return !item || item.tenant !== tenant || this.isExpired(item) ? null : item;
  }

  /** The episode and the notes layers/cloud wrote on its item (grading, auto-submission), from one read. */
  async getWithNotes(tenant: string, episodeId: string): Promise<{ episode: StoredEpisode; notes: EpisodeNotes } | null> {
    const item = await this.liveItem(tenant, episodeId);
    return item === null ? null : { episode: this.decode(item), notes: notesOf(item) };
  }

  /** The episode and its live lease from one read of the item (readLease without a second read). */
  async getWithLease(tenant: string, episodeId: string): Promise<{ episode: StoredEpisode; lease: EpisodeLease | null } | null> {
    const item = await this.liveItem(tenant, episodeId);
    return item === null ? null : { episode: this.decode(item), lease: this.liveLease(item) };
  }

  /** Removes an episode item (tests, administrative clean-up). */
  async delete(tenant: string, episodeId: string): Promise<void> {
    if (!isValidId(tenant) || !isValidId(episodeId)) return;
    await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: episodeKey(tenant, episodeId) }));
  }

  /** A tenant's episodes, newest first, one page at a time (Query on the by_tenant GSI). */
  async listByTenant(
    tenant: string,
    options: { limit?: number; cursor?: string | null } = {},
  ): Promise<{ items: StoredEpisodeSummary[]; cursor: string | null }> {
    if (!isValidId(tenant)) return { items: [], cursor: null };
    const byTenant = TABLE_LAYOUT.indexes.byTenant;
    const limit = Math.min(LIST_LIMIT_MAX, Math.max(1, Math.floor(options.limit ?? 20)));
    let startKey: Record<string, unknown> | undefined;
    if (options.cursor) {
      const decoded = decodeCursor(options.cursor) as { t?: unknown; c?: unknown; p?: unknown };
      const episode = typeof decoded?.p === 'string' ? parseEpisodePartitionKey(decoded.p) : null;
      if (decoded?.t !== tenant || typeof decoded.c !== 'string' || episode?.tenant !== tenant) {
        throw new StorageError('invalid_cursor', 'The cursor does not belong to this listing.');
      }
      startKey = { ...episodeKey(tenant, episode.episode_id), [byTenant.partitionKey.name]: tenant, [byTenant.sortKey.name]: decoded.c };
    }
    const rows: Record<string, unknown>[] = [];
    // One row more than asked tells whether another page exists (so the last page has no cursor).
    do {
      const output = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: byTenant.name,
          KeyConditionExpression: '#tenant = :tenant',
          FilterExpression: '#expires > :now',
          ExpressionAttributeNames: { '#tenant': byTenant.partitionKey.name, '#expires': TABLE_LAYOUT.ttlAttribute },
          ExpressionAttributeValues: { ':tenant': tenant, ':now': this.nowSeconds() },
          ScanIndexForward: false,
          Limit: limit + 1 - rows.length,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      // Stryker disable next-line ArrayDeclaration: a Query without Select COUNT always answers with Items (empty when nothing matched), so the fallback never runs
      rows.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (rows.length <= limit && startKey !== undefined);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const cursor = rows.length > limit && last ? encodeCursor({ t: tenant, c: last.created_at, p: last.pk }) : null;
    return { items: page.map((row) => this.summary(row)), cursor };
  }

  /**
   * A tenant's episodes created in [from, to), oldest first, with their usage (all pages;
   * Query on the by-tenant GSI). Expired items are left out.
   */
  async listUsage(tenant: string, from: Date, to: Date): Promise<EpisodeUsageRow[]> {
    if (!isValidId(tenant) || !(from.getTime() < to.getTime())) return [];
    const rows = await this.queryByTenant(tenant, {
      keyCondition: '#tenant = :tenant AND #created BETWEEN :from AND :to',
      values: { ':from': from.toISOString(), ':to': new Date(to.getTime() - 1).toISOString() },
    });
    return rows.map((row) => ({
      tenant: row.tenant as string,
      episode_id: row.episode_id as string,
      task_id: row.task_id as string,
      status: row.status as EpisodeRecord['status'],
      created_at: row.created_at as string,
      updated_at: row.updated_at as string,
      usage: (row.usage as StoredUsage | undefined) ?? { steps: 0, epochs_trained: 0, training_seconds: 0 },
    }));
  }

  /**
   * A tenant's active episodes whose last write is before idleSince, oldest first, at most
   * `limit` (Query on the by-tenant GSI: created before idleSince, filtered on status and
   * updated_at). For the batch run's abandoned episodes.
   */
  async listIdleActive(tenant: string, idleSince: Date, options: { limit?: number } = {}): Promise<StoredEpisodeSummary[]> {
    if (!isValidId(tenant)) return [];
    const limit = Math.max(1, Math.floor(options.limit ?? 1000));
    const rows = await this.queryByTenant(tenant, {
      keyCondition: '#tenant = :tenant AND #created < :idle',
      filter: '#status = :active AND #updated < :idle',
      names: { '#status': 'status', '#updated': 'updated_at' },
      values: { ':idle': idleSince.toISOString(), ':active': 'active' },
      limit,
    });
    return rows.map((row) => this.summary(row));
  }

  private async queryByTenant(
    tenant: string,
    query: { keyCondition: string; filter?: string; names?: Record<string, string>; values: Record<string, unknown>; limit?: number },
  ): Promise<Record<string, unknown>[]> {
    const byTenant = TABLE_LAYOUT.indexes.byTenant;
    const rows: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: byTenant.name,
          KeyConditionExpression: query.keyCondition,
          FilterExpression: query.filter ? `(${query.filter}) AND #expires > :now` : '#expires > :now',
          ExpressionAttributeNames: {
            '#tenant': byTenant.partitionKey.name,
            '#created': byTenant.sortKey.name,
            '#expires': TABLE_LAYOUT.ttlAttribute,
            ...query.names,
          },
          ExpressionAttributeValues: { ':tenant': tenant, ':now': this.nowSeconds(), ...query.values },
          ScanIndexForward: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      // Stryker disable next-line ArrayDeclaration: a Query without Select COUNT always answers with Items (empty when nothing matched), so the fallback never runs
      rows.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined && (query.limit === undefined || rows.length < query.limit));
    return rows.slice(0, query.limit);
  }

  /**
   * Every episode that ended in [since, until), across tenants, in ascending (ended_at,
   * tenant, episode_id) order. Per UTC day, a k-way merge of the Query streams of the day's
   * partition values on the sparse end-time GSI (ENDED_INDEX_SHARDS shards, plus the legacy
   * bare day of items written before the shards), queried concurrently one page (`pageSize`
   * rows, default 100) at a time per stream: memory stays O(streams × pageSize). The days
   * follow one another, since every episode of a day ends before any of the next.
   */
  async *endedEpisodes(since: Date, until: Date, options: { pageSize?: number } = {}): AsyncGenerator<EndedEpisodeRef> {
    const pageSize = Math.min(ENDED_PAGE_MAX, Math.max(1, Math.floor(options.pageSize ?? ENDED_PAGE_DEFAULT)));
    for (const day of utcDaysOf(since, until)) {
      const streams = endedIndexPartitionsOfDay(day).map((partition) =>
        // The index orders by ended_at only: ties come in any order, so each stream is refined first.
        refineOrder(this.endedPages(partition, since, until, pageSize), (ref) => ref.ended_at, compareEndedRefs),
      );
      yield* mergeSortedPages(streams, compareEndedRefs);
    }
  }

  /**
   * Episodes that ended in [since, until), oldest first (endedEpisodes' order), at most
   * `limit` (default 100, at most 1000) a page, for batch grading. The cursor names the last
   * episode returned; the next page restarts at its ended_at and skips through it.
   */
  async listEnded(
    since: Date,
    options: { until?: Date; limit?: number; cursor?: string | null } = {},
  ): Promise<{ items: EndedEpisodeRef[]; cursor: string | null }> {
    const until = options.until ?? this.clock();
    const limit = Math.min(1000, Math.max(1, Math.floor(options.limit ?? 100)));
    const after = options.cursor ? decodeEndedCursor(options.cursor) : null;
    const start = after === null ? since : new Date(Math.max(since.getTime(), Date.parse(after.ended_at)));
    const items: EndedEpisodeRef[] = [];
    let more = false;
    // One row more than asked tells whether another page exists (so the last page has no cursor).
    for await (const ref of this.endedEpisodes(start, until, { pageSize: Math.min(limit + 1, ENDED_PAGE_DEFAULT) })) {
      if (after !== null && compareEndedRefs(ref, after) <= 0) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(ref);
    }
    const last = more ? items[items.length - 1] : undefined;
    return { items, cursor: last === undefined ? null : encodeCursor({ a: last.ended_at, t: last.tenant, e: last.episode_id }) };
  }

  /** How many episodes ended in [since, until): a COUNT Query per partition value of each day, a day's concurrently. */
  async countEnded(since: Date, until: Date): Promise<number> {
    let total = 0;
    for (const day of utcDaysOf(since, until)) {
      const counts = await Promise.all(endedIndexPartitionsOfDay(day).map((partition) => this.countEndedIn(partition, since, until)));
      total += counts.reduce((sum, count) => sum + count, 0);
    }
    return total;
  }

  /** One partition value's episodes ended in [since, until), a page at a time, ascending in ended_at. */
  private async *endedPages(partition: string, since: Date, until: Date, pageSize: number): AsyncGenerator<EndedEpisodeRef[]> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.documents.send(
        new QueryCommand({ ...this.endedQuery(partition, since, until), Limit: pageSize, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
      );
      // Stryker disable next-line ArrayDeclaration: a Query without Select COUNT always answers with Items (empty when nothing matched), so the fallback never runs
      yield (output.Items ?? []).map(endedRef);
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
  }

  private async countEndedIn(partition: string, since: Date, until: Date): Promise<number> {
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.documents.send(
        new QueryCommand({ ...this.endedQuery(partition, since, until), Select: 'COUNT', ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
      );
      count += output.Count ?? 0;
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return count;
  }

  private endedQuery(partition: string, since: Date, until: Date) {
    const ended = TABLE_LAYOUT.indexes.ended;
    return {
      TableName: this.tableName,
      IndexName: ended.name,
      KeyConditionExpression: '#day = :day AND #at BETWEEN :since AND :until',
      ExpressionAttributeNames: { '#day': ended.partitionKey.name, '#at': ended.sortKey.name },
      ExpressionAttributeValues: {
        ':day': partition,
        ':since': since.toISOString(),
        // BETWEEN is inclusive; until is exclusive, and ISO strings compare as the times they name.
        ':until': new Date(until.getTime() - 1).toISOString(),
      },
      ScanIndexForward: true,
    };
  }

  private nowSeconds(): number {
    return Math.floor(this.clock().getTime() / 1000);
  }

  private isExpired(item: Record<string, unknown>): boolean {
    return typeof item.expires_at === 'number' && item.expires_at <= this.nowSeconds();
  }

  private decode(item: Record<string, unknown>): StoredEpisode {
    if (item.item_schema !== ITEM_SCHEMA) {
      throw new Error(`Episode item ${String(item.pk)} has item_schema ${JSON.stringify(item.item_schema)}; this version reads ${ITEM_SCHEMA}.`);
    }
    return {
      tenant: item.tenant as string,
      episode_id: item.episode_id as string,
      version: item.version as number,
      created_at: item.created_at as string,
      updated_at: item.updated_at as string,
      record: decodeRecord(item),
      checkpoint: (item.checkpoint as CheckpointPointer | null | undefined) ?? null,
      ...decodeTrainerOps(item),
      usage: item.usage as StoredUsage,
      results: decodeResults(item.results as Record<string, StoredResultAttribute> | undefined),
      commit_id: item.commit_id as string,
      ended_at: (item.ended_at as string | undefined) ?? null,
    };
  }

  private summary(row: Record<string, unknown>): StoredEpisodeSummary {
    return {
      episode_id: row.episode_id as string,
      tenant: row.tenant as string,
      task_id: row.task_id as string,
      seed: row.seed as number,
      status: row.status as EpisodeRecord['status'],
      step_count: row.step_count as number,
      best_val_accuracy: row.best_val_accuracy as number,
      score: (row.score as number | null | undefined) ?? null,
      agent: decodeAgent(row.agent),
      version: row.version as number,
      created_at: row.created_at as string,
      updated_at: row.updated_at as string,
    };
  }
}

/**
 * A stored result as an attribute: the view gzip-compressed (binary). Views repeat the
 * observation and, for invalid calls, the echoed argument value several times; compressed,
 * the 15 results of a maximal episode take a few KB instead of most of the item.
 */
interface StoredResultAttribute {
  call_sha256: string;
  version: number;
  view_gz: Uint8Array;
}

/**
 * The compressed view of each result read from the table, by result: a step carries the
 * results it read into the item it commits, and compressing them all again took most of
 * building that item (a status step of a 15-step episode: 13 gzips). Kept with the view it
 * compresses, so a result whose view was replaced is compressed anew.
 */
const readViews = new WeakMap<StoredStepResult, { view: string; view_gz: Uint8Array }>();

function encodeResults(results: Record<string, StoredStepResult>): Record<string, StoredResultAttribute> {
  const encoded: Record<string, StoredResultAttribute> = {};
  for (const [id, r] of Object.entries(results)) {
    const read = readViews.get(r);
    const viewGz =
      // Stryker disable next-line ConditionalExpression: always compressing anew cannot be observed: the gzip read back was written by this same call from this same view, and zlib gives the same bytes again (only the CPU differs)
      read !== undefined &&
      read.view === r.view
        ? read.view_gz
        : gzipSync(r.view); // a string is gzipped as utf8, at zlib's default level 6: the same bytes as every view stored so far
    encoded[id] = { call_sha256: r.call_sha256, version: r.version, view_gz: viewGz };
  }
  return encoded;
}

function decodeResults(attribute: Record<string, StoredResultAttribute> | undefined): Record<string, StoredStepResult> {
  const results: Record<string, StoredStepResult> = {};
  for (const [id, r] of Object.entries(attribute ?? {})) {
    const view = gunzipSync(r.view_gz).toString('utf8');
    results[id] = { call_sha256: r.call_sha256, version: r.version, view };
    readViews.set(results[id], { view, view_gz: r.view_gz });
  }
  return results;
}

/**
 * The item's record, parsed with the core's schema (its invariants included) on every read:
 * an item edited or damaged in the table is refused with a clear error, never trained on.
 */
function decodeRecord(item: Record<string, unknown>): EpisodeRecord {
  try {
    if (typeof item.record !== 'string') throw new Error(`the record attribute is ${item.record === undefined ? 'missing' : `a ${typeof item.record}`}, not JSON text`);
    return parseEpisodeRecord(JSON.parse(item.record));
  } catch (e) {
    throw new StorageError('invalid_item', `Episode item ${String(item.pk)} holds no valid episode record: ${(e as Error).message}`, {
      tenant: item.tenant,
      episode_id: item.episode_id,
    });
  }
}

/**
 * The item's pending trainer operations (JSON text, like the record), parsed with the core's
 * schema and bound on every read; none (the attribute absent) reads as no field at all.
 */
function decodeTrainerOps(item: Record<string, unknown>): Pick<StoredEpisode, 'trainer_ops'> {
  if (item.trainer_ops === undefined) return {};
  try {
    if (typeof item.trainer_ops !== 'string') throw new Error(`the trainer_ops attribute is a ${typeof item.trainer_ops}, not JSON text`);
    const operations = trainerOperationsSchema.parse(JSON.parse(item.trainer_ops));
    return operations.length > 0 ? { trainer_ops: operations } : {};
  } catch (e) {
    throw new StorageError('invalid_item', `Episode item ${String(item.pk)} holds no valid pending trainer operations: ${(e as Error).message}`, {
      tenant: item.tenant,
      episode_id: item.episode_id,
    });
  }
}

/**
 * The projected agent label: absent (unlabelled, or an item written before labels) reads as
 * null, and so does a damaged one, so one bad item never breaks a tenant's listing (its
 * record, read on its own, is still refused by decodeRecord).
 */
function decodeAgent(attribute: unknown): AgentLabel | null {
  const parsed = agentLabelSchema.safeParse(attribute);
  return parsed.success ? parsed.data : null;
}

/** An ended episode as the end-time GSI row holds it. */
function endedRef(row: Record<string, unknown>): EndedEpisodeRef {
  return {
    tenant: String(row.tenant),
    episode_id: String(row.episode_id),
    task_id: String(row.task_id),
    ended_at: String(row.ended_at),
    score: typeof row.score === 'number' ? row.score : null,
    ...(typeof row.auto_submitted_by === 'string' ? { auto_submitted_by: row.auto_submitted_by } : {}),
  };
}

type EndedPosition = Pick<EndedEpisodeRef, 'ended_at' | 'tenant' | 'episode_id'>;

/** The order of ended episodes: by ended_at, then tenant, then episode_id (code-unit order; ids are ASCII). */
function compareEndedRefs(a: EndedPosition, b: EndedPosition): number {
  return compareStrings(a.ended_at, b.ended_at) || compareStrings(a.tenant, b.tenant) || compareStrings(a.episode_id, b.episode_id);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const endedCursorSchema = z.object({
  a: z.iso.datetime({ precision: 3 }),
  t: z.string().refine(isValidId),
  e: z.string().refine(isValidId),
});

function decodeEndedCursor(cursor: string): EndedPosition {
  const parsed = endedCursorSchema.safeParse(decodeCursor(cursor));
  if (!parsed.success) throw new StorageError('invalid_cursor', 'The cursor does not belong to this listing.');
  return { ended_at: parsed.data.a, tenant: parsed.data.t, episode_id: parsed.data.e };
}

/** The UTC days that [since, until) touches, in order; none when it is empty. */
function utcDaysOf(since: Date, until: Date): string[] {
  if (!(since.getTime() < until.getTime())) return [];
  const last = utcDayOf(new Date(until.getTime() - 1).toISOString());
  const days: string[] = [];
  for (let day = utcDayOf(since.toISOString()); day <= last; day = nextDay(day)) days.push(day);
  return days;
}

function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00.000Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return utcDayOf(date.toISOString());
}
