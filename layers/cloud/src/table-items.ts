import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { parseStepProgress, type StepProgress } from '../../core/src';
import {
  BATCH_STATE_KEY,
  isConditionFailure,
  isValidId,
  meteringKey,
  parseEpisodePartitionKey,
  stepKey,
  TABLE_LAYOUT,
  TENANTS_PARTITION_KEY,
  tenantRegistryKey,
} from '../../storage/src';

/**
 * The cloud's own items in the episodes table, beside the episode items of layers/storage;
 * their keys are built in layers/storage/src/table-keys.ts. None of them carries the GSI key
 * attributes `tenant`+`created_at` or `ended_day`+`ended_at`, so they never show up in the
 * tenant listing or the batch's end-time index. Items with a TTL (`expires_at`) are treated
 * as absent once expired, as the store does.
 */
export interface TableContext {
  documents: DynamoDBDocumentClient;
  tableName: string;
  /** Seconds an item is kept after its last write (the episodes' retention). */
  retentionSeconds: number;
  clock?: () => Date;
}

/** The table's partition key in expressions: `#pk`. */
const PK_NAME = { '#pk': TABLE_LAYOUT.partitionKey.name };

/** Base of the item stores: the table, its retention and the clock (episode-quota.ts extends it too). */
export abstract class TableItems {
  protected readonly documents: DynamoDBDocumentClient;
  protected readonly tableName: string;
  protected readonly retentionSeconds: number;
  protected readonly clock: () => Date;

  constructor(context: TableContext) {
    this.documents = context.documents;
    this.tableName = context.tableName;
    this.retentionSeconds = context.retentionSeconds;
    this.clock = context.clock ?? (() => new Date());
  }

  /** Sends a conditional update or delete: true when it wrote, false when its condition failed (nothing written); other errors throw. */
  protected async writeIf(command: UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      // Two calls: the client's send is overloaded per command type.
      await (command instanceof DeleteCommand ? this.documents.send(command) : this.documents.send(command));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  protected nowSeconds(): number {
    return Math.floor(this.clock().getTime() / 1000);
  }

  protected expiresAt(): number {
    return this.nowSeconds() + this.retentionSeconds;
  }

  /**
   * The live items among these keys, at most 100 per BatchGetItem, the unprocessed ones
   * retried with backoff; `projection` names the attributes to read (the key and TTL are always read).
   */
  protected async batchGetLive(keys: readonly Record<string, unknown>[], what: string, projection: readonly string[] = []): Promise<Record<string, unknown>[]> {
    const found: Record<string, unknown>[] = [];
    const names = Object.fromEntries([TABLE_LAYOUT.partitionKey.name, TABLE_LAYOUT.ttlAttribute, ...projection].map((name, i) => [`#a${i}`, name]));
    const projected = projection.length === 0 ? {} : { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names };
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
        if (attempt > 8) throw new Error(`BatchGetItem left ${pending.length} ${what} items unprocessed after ${attempt} attempts.`);
        const output = await this.documents.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ...projected } } }));
        for (const item of output.Responses?.[this.tableName] ?? []) {
          const live = this.live(item);
          if (live) found.push(live);
        }
        pending = output.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined;
      }
    }
    return found;
  }

  protected live(item: Record<string, unknown> | undefined): Record<string, unknown> | null {
    if (!item) return null;
    const expiresAt = item[TABLE_LAYOUT.ttlAttribute];
    if (typeof expiresAt === 'number' && expiresAt <= this.nowSeconds()) return null;
    return item;
  }
}

// ---- Steps that are not committed (yet) -----------------------------------------------------

export type StepState = 'pending' | 'running' | 'failed';

/** Why a step did not commit: a refusal of the service (what a synchronous call would have answered), a fault, or time. */
export interface StepFailure {
  /** dataset_unavailable: details are the DatasetUnavailableError's detail. */
  kind: 'service' | 'internal' | 'not_started' | 'timed_out' | 'dataset_unavailable';
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface StepStatus {
  episode_id: string;
  step_id: string;
  call_sha256: string;
  tool: string;
  state: StepState;
  /** How the api invoked the training Lambda: `async`, or `sync` (a synchronous call the api stopped waiting for). */
  mode: 'sync' | 'async';
  requested_at: string;
  /** An asynchronous step not started by then is not started at all. */
  start_by: string;
  /** Past this instant a step without a result has failed. */
  deadline_at: string;
  started_at?: string;
  failed_at?: string;
  failure?: StepFailure;
  /** The epochs the training Lambda finished so far (bounded: core's STEP_PROGRESS_MAX_EPOCHS). */
  progress?: StepProgress;
}

export class StepStatusStore extends TableItems {
  async get(tenant: string, episodeId: string, stepId: string): Promise<StepStatus | null> {
    if (!isValidId(tenant) || !isValidId(episodeId) || !isValidId(stepId)) return null;
    const output = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: stepKey(tenant, episodeId, stepId), ConsistentRead: true }),
    );
    const item = this.live(output.Item);
    return item ? decodeStep(item) : null;
  }

  /**
   * Records a step as pending unless one with this id is pending or running and not past its
   * deadline (a retried request then waits for the first). Returns whether it wrote.
   */
  async putPending(
    tenant: string,
    status: Omit<StepStatus, 'state'>,
    /** failedBefore: write only over a failure recorded before this instant (an earlier attempt), never over a live step. */
    options: { failedBefore?: string } = {},
  ): Promise<boolean> {
    const now = this.clock().toISOString();
    return this.writeIf(
      new UpdateCommand({
        TableName: this.tableName,
        Key: stepKey(tenant, status.episode_id, status.step_id),
        UpdateExpression:
          'SET #state = :pending, episode_id = :episode, step_id = :step, call_sha256 = :call, tool = :tool, #mode = :mode, ' +
          'requested_at = :requested, start_by = :start_by, deadline_at = :deadline, expires_at = :expires REMOVE started_at, failed_at, failure, progress',
        ConditionExpression:
          options.failedBefore !== undefined
            ? 'attribute_not_exists(#pk) OR (#state = :failed AND failed_at < :before)'
            : 'attribute_not_exists(#pk) OR #state = :failed OR deadline_at < :now',
        ExpressionAttributeNames: { ...PK_NAME, '#state': 'state', '#mode': 'mode' },
        ExpressionAttributeValues: {
          ':pending': 'pending',
          ':failed': 'failed',
          ...(options.failedBefore !== undefined ? { ':before': options.failedBefore } : { ':now': now }),
          ':episode': status.episode_id,
          ':step': status.step_id,
          ':call': status.call_sha256,
          ':tool': status.tool.slice(0, 128),
          ':mode': status.mode,
          ':requested': status.requested_at,
          ':start_by': status.start_by,
          ':deadline': status.deadline_at,
          ':expires': this.expiresAt(),
        },
      }),
    );
  }

  /** The training Lambda started the step: it cannot run past deadlineAt. */
  async markRunning(tenant: string, episodeId: string, stepId: string, deadlineAt: string): Promise<void> {
    await this.writeIf(
      new UpdateCommand({
        TableName: this.tableName,
        Key: stepKey(tenant, episodeId, stepId),
        UpdateExpression: 'SET #state = :running, started_at = :now, deadline_at = :deadline, expires_at = :expires',
        ConditionExpression: 'attribute_exists(#pk) AND #state = :pending',
        ExpressionAttributeNames: { ...PK_NAME, '#state': 'state' },
        ExpressionAttributeValues: {
          ':running': 'running',
          ':pending': 'pending',
          ':now': this.clock().toISOString(),
          ':deadline': deadlineAt,
          ':expires': this.expiresAt(),
        },
      }),
    );
  }

  /**
   * Replaces the progress of a step still pending or running under the attempt that wrote
   * it (same requested_at): a late writer (an attempt superseded by a retry) or a step that
   * failed or completed (its item deleted) changes nothing. One write per epoch of an
   * asynchronous step, of the whole item: 0.8 KB after its first epoch, +0.26 KB per epoch
   * kept (5.9 KB at 20), so a 20-epoch step costs about 75 write units, $0.00005 on demand
   * (not in ml-trainer cost's model). Returns whether it wrote.
   */
  async recordProgress(
    tenant: string,
    step: Pick<StepStatus, 'episode_id' | 'step_id' | 'requested_at'>,
    progress: StepProgress,
  ): Promise<boolean> {
    return this.writeIf(
      new UpdateCommand({
        TableName: this.tableName,
        Key: stepKey(tenant, step.episode_id, step.step_id),
        UpdateExpression: 'SET progress = :progress',
        ConditionExpression: 'attribute_exists(#pk) AND requested_at = :requested AND #state IN (:pending, :running)',
        ExpressionAttributeNames: { ...PK_NAME, '#state': 'state' },
        ExpressionAttributeValues: {
          ':progress': progress,
          ':requested': step.requested_at,
          ':pending': 'pending',
          ':running': 'running',
        },
      }),
    );
  }

  /** Records why a step did not commit (creating the item for a synchronous step that has none). */
  async markFailed(
    tenant: string,
    base: Pick<StepStatus, 'episode_id' | 'step_id' | 'call_sha256' | 'tool' | 'mode' | 'requested_at'>,
    failure: StepFailure,
  ): Promise<void> {
    const now = this.clock().toISOString();
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: stepKey(tenant, base.episode_id, base.step_id),
        UpdateExpression:
          'SET #state = :failed, failed_at = :now, failure = :failure, episode_id = :episode, step_id = :step, call_sha256 = :call, ' +
          'tool = :tool, #mode = if_not_exists(#mode, :mode), requested_at = if_not_exists(requested_at, :requested), ' +
          'start_by = if_not_exists(start_by, :now), deadline_at = if_not_exists(deadline_at, :now), expires_at = :expires',
        ExpressionAttributeNames: { '#state': 'state', '#mode': 'mode' },
        ExpressionAttributeValues: {
          ':failed': 'failed',
          ':now': now,
          ':failure': JSON.parse(JSON.stringify(failure)) as StepFailure,
          ':episode': base.episode_id,
          ':step': base.step_id,
          ':call': base.call_sha256,
          ':tool': base.tool.slice(0, 128),
          ':mode': base.mode,
          ':requested': base.requested_at,
          ':expires': this.expiresAt(),
        },
      }),
    );
  }

  /**
   * Removes a pending record this attempt wrote (same requested_at) and nothing else, when
   * the invocation it announced was refused: the step never started, so a poll must not
   * report it pending. True when it removed it.
   */
  async withdrawPending(tenant: string, status: Pick<StepStatus, 'episode_id' | 'step_id' | 'requested_at'>): Promise<boolean> {
    return this.writeIf(
      new DeleteCommand({
        TableName: this.tableName,
        Key: stepKey(tenant, status.episode_id, status.step_id),
        ConditionExpression: '#state = :pending AND requested_at = :requested',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':pending': 'pending', ':requested': status.requested_at },
      }),
    );
  }

  /** Removes the record of a step whose result is stored; true for the caller that removed it. */
  async complete(tenant: string, episodeId: string, stepId: string): Promise<boolean> {
    if (!isValidId(tenant) || !isValidId(episodeId) || !isValidId(stepId)) return false;
    return this.writeIf(
      new DeleteCommand({
        TableName: this.tableName,
        Key: stepKey(tenant, episodeId, stepId),
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: PK_NAME,
      }),
    );
  }
}

function decodeStep(item: Record<string, unknown>): StepStatus {
  const status: StepStatus = {
    episode_id: item.episode_id as string,
    step_id: item.step_id as string,
    call_sha256: item.call_sha256 as string,
    tool: item.tool as string,
    state: item.state as StepState,
    mode: (item.mode as StepStatus['mode']) ?? 'async',
    requested_at: item.requested_at as string,
    start_by: item.start_by as string,
    deadline_at: item.deadline_at as string,
  };
  if (typeof item.started_at === 'string') status.started_at = item.started_at;
  if (typeof item.failed_at === 'string') status.failed_at = item.failed_at;
  if (item.failure && typeof item.failure === 'object') status.failure = item.failure as StepFailure;
  const progress = parseStepProgress(item.progress);
  if (progress !== undefined) status.progress = progress;
  return status;
}

// ---- Metering ------------------------------------------------------------------------------

/** What the episode's training invocations used, summed (Lambda bills memory × duration and requests). */
export interface LambdaUsage {
  lambda_requests: number;
  lambda_billed_ms: number;
  lambda_gb_seconds: number;
}

export const NO_LAMBDA_USAGE: LambdaUsage = { lambda_requests: 0, lambda_billed_ms: 0, lambda_gb_seconds: 0 };

/** GB-seconds of one invocation: memory (MB / 1024) × billed seconds, rounded to 1e-6. */
export function gbSeconds(memoryMb: number, billedMs: number): number {
  return Math.round((memoryMb / 1024) * (billedMs / 1000) * 1e6) / 1e6;
}

export class MeteringStore extends TableItems {
  /** Adds one training invocation (atomic counters, so concurrent steps never lose one). */
  async recordInvocation(tenant: string, episodeId: string, usage: { memoryMb: number; billedMs: number }): Promise<LambdaUsage> {
    const billedMs = Math.max(1, Math.ceil(usage.billedMs));
    const added = gbSeconds(usage.memoryMb, billedMs);
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: meteringKey(tenant, episodeId),
        UpdateExpression:
          'ADD lambda_requests :one, lambda_billed_ms :ms, lambda_gb_seconds :gbs SET episode_id = :episode, memory_mb = :memory, expires_at = :expires, updated_at = :now',
        ExpressionAttributeValues: {
          ':one': 1,
          ':ms': billedMs,
          ':gbs': added,
          ':episode': episodeId,
          ':memory': usage.memoryMb,
          ':expires': this.expiresAt(),
          ':now': this.clock().toISOString(),
        },
      }),
    );
    return { lambda_requests: 1, lambda_billed_ms: billedMs, lambda_gb_seconds: added };
  }

  /** The metering of each episode (absent ones: zero), by `<tenant>#<episode>`. */
  async getMany(refs: readonly { tenant: string; episode_id: string }[]): Promise<Map<string, LambdaUsage>> {
    const result = new Map<string, LambdaUsage>();
    const keys = uniqueRefs(refs).map((r) => meteringKey(r.tenant, r.episode_id));
    for (const live of await this.batchGetLive(keys, 'metering')) {
      const episode = parseEpisodePartitionKey(String(live[TABLE_LAYOUT.partitionKey.name]));
      if (!episode) continue;
      result.set(meteringRef(episode), {
        lambda_requests: Number(live.lambda_requests ?? 0),
        lambda_billed_ms: Number(live.lambda_billed_ms ?? 0),
        lambda_gb_seconds: Number(live.lambda_gb_seconds ?? 0),
      });
    }
    return result;
  }
}

/** The key getMany's map uses. */
export function meteringRef(ref: { tenant: string; episode_id: string }): string {
  return `${ref.tenant}#${ref.episode_id}`;
}

/** The refs with valid ids, each once. */
export function uniqueRefs<R extends { tenant: string; episode_id: string }>(refs: readonly R[]): R[] {
  return [...new Map(refs.filter((r) => isValidId(r.tenant) && isValidId(r.episode_id)).map((r) => [meteringRef(r), r])).values()];
}

// ---- Tenants -------------------------------------------------------------------------------

export class TenantRegistry extends TableItems {
  /** Remembers that a tenant is active; at most one write per tenant and UTC day. */
  async touch(tenant: string): Promise<void> {
    if (!isValidId(tenant)) return;
    const now = this.clock().toISOString();
    await this.writeIf(
      new UpdateCommand({
        TableName: this.tableName,
        Key: tenantRegistryKey(tenant),
        UpdateExpression: 'SET tenant_id = :tenant, last_seen = :now, last_day = :today, expires_at = :expires, first_seen = if_not_exists(first_seen, :now)',
        ConditionExpression: 'attribute_not_exists(#pk) OR last_day <> :today',
        ExpressionAttributeNames: PK_NAME,
        ExpressionAttributeValues: { ':tenant': tenant, ':now': now, ':today': now.slice(0, 10), ':expires': this.expiresAt() },
      }),
    );
  }

  /** Every tenant that created an episode within the retention period. */
  async list(): Promise<string[]> {
    const tenants: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: PK_NAME,
          ExpressionAttributeValues: { ':pk': TENANTS_PARTITION_KEY },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of output.Items ?? []) {
        const live = this.live(item);
        if (live && typeof live.tenant_id === 'string') tenants.push(live.tenant_id);
      }
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return tenants;
  }
}

// ---- Batch state ---------------------------------------------------------------------------

function batchStateOf(item: Record<string, unknown> | undefined): BatchState | null {
  if (!item) return null;
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  const inherited = Array.isArray(item.claim_inherited) ? item.claim_inherited.filter((id): id is string => typeof id === 'string') : [];
  const claim = typeof item.claim_run_id === 'string' && typeof item.claim_expires_at === 'string' ? { run_id: item.claim_run_id, expires_at: item.claim_expires_at, inherited } : null;
  return { last_until: text(item.last_until), last_run_id: text(item.last_run_id), updated_at: text(item.updated_at), claim };
}

export interface BatchState {
  /** Where the next run starts; null before the first run ended. */
  last_until: string | null;
  last_run_id: string | null;
  updated_at: string | null;
  /** The run working on the window after last_until, until it advances it or its claim expires. */
  claim: BatchClaim | null;
}

export interface BatchClaim {
  run_id: string;
  expires_at: string;
  /** Runs that held the window before and failed (their claims expired): this run reports what they auto-submitted. */
  inherited: string[];
}

export type ClaimOutcome = { claimed: true; state: BatchState | null } | { claimed: false; holder: BatchClaim };

export class BatchStateStore extends TableItems {
  async get(): Promise<BatchState | null> {
    const output = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: BATCH_STATE_KEY, ConsistentRead: true }));
    return batchStateOf(output.Item);
  }

  /**
   * Claims the next window for a run, so that two runs (the schedule's and a continuation, or a
   * manual one) never grade the same episodes: granted when no other run holds an unexpired
   * claim. A run that fails keeps its claim until `expiresAt` (the state machine's timeout):
   * then the next run takes the same window over, and inherits the failed run's id
   * (`claim.inherited`): the episodes that run auto-submitted are its to report.
   */
  async claim(runId: string, expiresAt: Date): Promise<ClaimOutcome> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const held = (await this.get())?.claim ?? null;
      if (held && held.run_id !== runId && held.expires_at >= this.clock().toISOString()) return { claimed: false, holder: held };
      const state = await this.claimIfStill(runId, expiresAt, held);
      if (state !== null) return { claimed: true, state };
      // Another run claimed (or released) between the read and the write: look again.
    }
    throw new Error('The batch window kept changing hands while this run claimed it.');
  }

  /** Sets the claim if it is still `held` as read (none, this run's, or an expired one it takes over); null when it is not. */
  private async claimIfStill(runId: string, expiresAt: Date, held: BatchClaim | null): Promise<BatchState | null> {
    const takeover = held !== null && held.run_id !== runId;
    const values: Record<string, unknown> = { ':run': runId, ':expires': expiresAt.toISOString() };
    let condition = 'attribute_not_exists(claim_run_id)';
    let update = 'SET claim_run_id = :run, claim_expires_at = :expires';
    if (held !== null) {
      condition = 'claim_run_id = :held AND claim_expires_at = :held_expires';
      Object.assign(values, { ':held': held.run_id, ':held_expires': held.expires_at });
    }
    if (takeover) {
      // The condition pins the claim as read, so its inherited list is the one read too.
      update += ', claim_inherited = :taken';
      Object.assign(values, { ':taken': [held.run_id, ...held.inherited] });
    }
    try {
      const output = await this.documents.send(
        new UpdateCommand({ TableName: this.tableName, Key: BATCH_STATE_KEY, UpdateExpression: update, ConditionExpression: condition, ExpressionAttributeValues: values, ReturnValues: 'ALL_NEW' }),
      );
      return batchStateOf(output.Attributes);
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  /**
   * Moves `last_until` forward to `until` (never back: a late, older run changes nothing) and
   * releases the run's claim. Returns whether the window moved.
   */
  async advance(until: string, runId: string): Promise<boolean> {
    return this.writeIf(
      new UpdateCommand({
        TableName: this.tableName,
        Key: BATCH_STATE_KEY,
        UpdateExpression: 'SET last_until = :until, last_run_id = :run, updated_at = :now REMOVE claim_run_id, claim_expires_at, claim_inherited',
        ConditionExpression: '(attribute_not_exists(last_until) OR last_until < :until) AND (attribute_not_exists(claim_run_id) OR claim_run_id = :run)',
        ExpressionAttributeValues: { ':until': until, ':run': runId, ':now': this.clock().toISOString() },
      }),
    );
  }

  /** Gives a claim up without moving the window (a manual run over a chosen window). */
  async release(runId: string): Promise<void> {
    await this.writeIf(
      new UpdateCommand({
        TableName: this.tableName,
        Key: BATCH_STATE_KEY,
        UpdateExpression: 'REMOVE claim_run_id, claim_expires_at, claim_inherited',
        ConditionExpression: 'claim_run_id = :run',
        ExpressionAttributeValues: { ':run': runId },
      }),
    );
  }

  /** Where the batch's bounded checkpoint sweep continues (null: from the first key). */
  async sweepCursor(): Promise<string | null> {
    const output = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: BATCH_STATE_KEY, ConsistentRead: true, ProjectionExpression: 'sweep_cursor' }),
    );
    const cursor = output.Item?.sweep_cursor;
    return typeof cursor === 'string' ? cursor : null;
  }

  async setSweepCursor(cursor: string | null): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: BATCH_STATE_KEY,
        ...(cursor === null
          ? { UpdateExpression: 'REMOVE sweep_cursor' }
          : { UpdateExpression: 'SET sweep_cursor = :cursor', ExpressionAttributeValues: { ':cursor': cursor } }),
      }),
    );
  }
}

/** The four item kinds over one table. */
export interface CloudItems {
  steps: StepStatusStore;
  metering: MeteringStore;
  tenants: TenantRegistry;
  batch: BatchStateStore;
}

export function cloudItems(context: TableContext): CloudItems {
  return {
    steps: new StepStatusStore(context),
    metering: new MeteringStore(context),
    tenants: new TenantRegistry(context),
    batch: new BatchStateStore(context),
  };
}
