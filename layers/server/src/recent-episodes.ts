import type { TenantId } from '../../episodes/src';

/**
 * The episode each tenant's last HTTP POST /reset started, so that a plain
 * reset-then-step HTTP client works without passing episode_id. In memory, bounded
 * (least recently used tenants are forgotten); a restart forgets it, episode_id does not.
 */
export class RecentEpisodes {
  private readonly byTenant = new Map<TenantId, string>();

  constructor(private readonly capacity = 10_000) {}

  remember(tenant: TenantId, episodeId: string): void {
    this.byTenant.delete(tenant);
    this.byTenant.set(tenant, episodeId);
    if (this.byTenant.size > this.capacity) {
      const oldest = this.byTenant.keys().next().value;
      if (oldest !== undefined) this.byTenant.delete(oldest);
    }
  }

  get(tenant: TenantId): string | null {
    return this.byTenant.get(tenant) ?? null;
  }
}
