import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '../../core/src';
import { EpisodeServiceError } from '../../episodes/src';
import { isConditionFailure, isValidId, quotaCounterKey, quotaLimitKey } from '../../storage/src';
import { TableItems, type TableContext } from './table-items';

/**
 * Each tenant's episode quota: how many episodes an API key may create per calendar month
 * (UTC). API Gateway's usage plans count requests, not episodes; episodes are what is sold,
 * so the api Lambda counts them itself, in the episodes table:
 *
 * | pk | sk | attributes | written by |
 * |---|---|---|---|
 * | `tenant#<tenant>` | `quota#<YYYY-MM>` | `episodes` (ADD counter), `tenant_id`, `period`, `updated_at`, `expires_at` | api, on every episode creation |
 * | `tenant#<tenant>` | `quota#limit` | `episodes_per_month` (number; `0` = unlimited), optional `expires_at` | the operator (`aws dynamodb put-item`, infra/README.md) |
 *
 * A creation takes a slot with ONE conditional UpdateItem on the month's counter
 * (`ADD episodes :one` if `attribute_not_exists(episodes) OR episodes < :limit`), so
 * concurrent creations can never exceed the limit; a creation that then fails gives its slot
 * back (a decrement, best effort). The limit is the tenant's `quota#limit` item if there is
 * one, else EPISODE_QUOTA_PER_MONTH (unset or 0: unlimited). Unlimited tenants are counted
 * too (unconditionally), so `GET /v1/usage` shows what they used and a limit set mid-month
 * applies to what was already created.
 *
 * No item here carries the GSI key attributes, so no listing or index ever sees them.
 */

/** The override's attribute: a whole number of episodes per calendar month; 0 = unlimited. */
export const QUOTA_LIMIT_ATTRIBUTE = 'episodes_per_month';
/** The calendar month (UTC) `now` is in: `YYYY-MM`, and the instant the next one starts. */
export function quotaPeriodOf(now: Date): { period: string; starts_at: string; resets_at: string } {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  const period = `${String(year).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}`;
  return {
    period,
    starts_at: new Date(Date.UTC(year, month, 1)).toISOString(),
    resets_at: new Date(Date.UTC(year, month + 1, 1)).toISOString(),
  };
}

/** A tenant's quota this month (GET /v1/usage). `limit: null` is unlimited. */
export interface EpisodeQuotaStatus {
  limit: number | null;
  used: number;
  /** limit − used (never below 0); null when unlimited. */
  remaining: number | null;
  /** `YYYY-MM` (UTC). */
  period: string;
  /** When the next period starts (the counter starts from 0 again). */
  resets_at: string;
  /** Where the limit comes from: the tenant's own `quota#limit` item or EPISODE_QUOTA_PER_MONTH. */
  source: 'tenant' | 'default';
}

/** A slot taken by one creation: what `release` gives back if the creation fails. */
export interface QuotaReservation {
  kind: 'reserved';
  tenant: string;
  period: string;
  limit: number | null;
  /** The counter after this reservation. */
  used: number;
}

/** A creation refused: the tenant used this month's quota up. */
export interface QuotaExceeded {
  kind: 'exceeded';
  limit: number;
  used: number;
  period: string;
  resets_at: string;
}

export interface EpisodeQuotaOptions {
  /** EPISODE_QUOTA_PER_MONTH: episodes per tenant and calendar month; 0 = unlimited. */
  defaultLimit: number;
  logger?: Pick<Logger, 'warn'>;
}

/** The service's refusal of a creation over the quota (REST: 429 with Retry-After until resets_at). */
export function episodeQuotaExceeded(details: Omit<QuotaExceeded, 'kind'>): EpisodeServiceError {
  return new EpisodeServiceError(
    'episode_quota_exceeded',
    `Episode quota exceeded: this API key may create ${details.limit} episode${details.limit === 1 ? '' : 's'} per calendar month (UTC) ` +
      `and has created ${details.used} in ${details.period}; the quota resets at ${details.resets_at}.`,
    { limit: details.limit, used: details.used, period: details.period, resets_at: details.resets_at },
  );
}

export class EpisodeQuota extends TableItems {
  private readonly defaultLimit: number | null;
  private readonly logger: EpisodeQuotaOptions['logger'];

  constructor(context: TableContext, options: EpisodeQuotaOptions) {
    super(context);
    if (!Number.isInteger(options.defaultLimit) || options.defaultLimit < 0) {
      throw new Error(`The default episode quota must be a whole number of at least 0, got ${options.defaultLimit}.`);
    }
    this.defaultLimit = options.defaultLimit === 0 ? null : options.defaultLimit;
    this.logger = options.logger;
  }

  /** The tenant's monthly limit (null: unlimited): its override item, else the default. */
  async limitOf(tenant: string): Promise<{ limit: number | null; source: EpisodeQuotaStatus['source'] }> {
    const fallback = { limit: this.defaultLimit, source: 'default' as const };
    if (!isValidId(tenant)) return fallback;
    const output = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: quotaLimitKey(tenant), ConsistentRead: true }),
    );
    const item = this.live(output.Item);
    const raw = item?.[QUOTA_LIMIT_ATTRIBUTE];
    if (raw === undefined || raw === null) return fallback;
    // put-item with {"N": "500"} arrives as a number; accept {"S": "500"} too.
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw.trim()) : NaN;
    if (!Number.isInteger(value) || value < 0) {
      this.logger?.warn('ignoring a malformed episode quota override; the default applies', {
        tenant,
        [QUOTA_LIMIT_ATTRIBUTE]: String(raw).slice(0, 64),
      });
      return fallback;
    }
    return { limit: value === 0 ? null : value, source: 'tenant' };
  }

  /**
   * Takes one slot of this month's quota, or says that none is left.
   * One conditional UpdateItem: concurrent reservations never exceed the limit.
   */
  async reserve(tenant: string): Promise<QuotaReservation | QuotaExceeded> {
    const { limit } = await this.limitOf(tenant);
    for (let attempt = 1; ; attempt++) {
      const { period, resets_at } = quotaPeriodOf(this.clock());
      try {
        const output = await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: quotaCounterKey(tenant, period),
            UpdateExpression: 'ADD episodes :one SET tenant_id = :tenant, #period = :period, updated_at = :now, expires_at = :expires',
            ...(limit === null ? {} : { ConditionExpression: 'attribute_not_exists(episodes) OR episodes < :limit' }),
            ExpressionAttributeNames: { '#period': 'period' },
            ExpressionAttributeValues: {
              ':one': 1,
              ':tenant': tenant,
              ':period': period,
              ':now': this.clock().toISOString(),
              // Kept for the retention period after the month ends (what a tenant used last month stays readable).
              ':expires': Math.floor(Date.parse(resets_at) / 1000) + this.retentionSeconds,
              ...(limit === null ? {} : { ':limit': limit }),
            },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return { kind: 'reserved', tenant, period, limit, used: Number(output.Attributes?.episodes ?? 0) };
      } catch (error) {
        if (!isConditionFailure(error) || limit === null) throw error;
        const used = await this.usedIn(tenant, period);
        // A failed creation gave a slot back between the refusal and the read: try again (a few times at most).
        if (used < limit && attempt < 3) continue;
        return { kind: 'exceeded', limit, used, period, resets_at };
      }
    }
  }

  /** Gives a reservation's slot back (the creation failed). The counter never goes below 0. */
  async release(reservation: QuotaReservation): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: quotaCounterKey(reservation.tenant, reservation.period),
          UpdateExpression: 'ADD episodes :minus_one SET updated_at = :now',
          ConditionExpression: 'episodes > :zero',
          ExpressionAttributeValues: { ':minus_one': -1, ':zero': 0, ':now': this.clock().toISOString() },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** The tenant's limit and what it used this month. */
  async status(tenant: string): Promise<EpisodeQuotaStatus> {
    const { period, resets_at } = quotaPeriodOf(this.clock());
    const [{ limit, source }, used] = await Promise.all([this.limitOf(tenant), this.usedIn(tenant, period)]);
    return { limit, used, remaining: limit === null ? null : Math.max(0, limit - used), period, resets_at, source };
  }

  private async usedIn(tenant: string, period: string): Promise<number> {
    if (!isValidId(tenant)) return 0;
    const output = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: quotaCounterKey(tenant, period), ConsistentRead: true }),
    );
    return Number(output.Item?.episodes ?? 0);
  }
}
