import type { TenantId } from '../../episodes/src';

/**
 * The live stateful sessions (WebSocket /ws and /mcp connections, standard MCP sessions),
 * counted per tenant so that no tenant can lock the others out:
 * - a tenant holds at most `perTenant` sessions; at that limit its oldest idle session is
 *   closed to make room (an idle session is one with no request or frame in progress);
 * - the server holds at most `max`; when full, a tenant with fewer sessions than another
 *   takes the oldest idle session of the tenant holding the most;
 * - a session idle for `idleMs` is closed.
 * Only when every candidate is busy is a session refused.
 */
export interface SessionLimits {
  max: number;
  perTenant: number;
  idleMs: number;
}

/** Why a session is being closed by the server. */
export type CloseReason = 'idle_expired' | 'evicted';

export interface CapacityRefusal {
  scope: 'server' | 'tenant';
  message: string;
  active_sessions: number;
  max_sessions: number;
}

/** A slot held by one session: run its requests through it; release it when the session ends. */
export interface SessionLease {
  run<T>(work: () => Promise<T>): Promise<T>;
  release(): void;
}

export type Admission = { admitted: true; lease: SessionLease } | { admitted: false; refusal: CapacityRefusal };

interface Slot {
  tenant: TenantId;
  lastActive: number;
  busy: number;
  close: (reason: CloseReason) => void;
  timer: NodeJS.Timeout | undefined;
}

export class SessionCapacity {
  private readonly slots = new Set<Slot>();

  constructor(
    readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Admits a session of `tenant` (closing an idle one if that makes room); `close` ends it if the server must. */
  admit(tenant: TenantId, close: (reason: CloseReason) => void): Admission {
    const own = this.countOf(tenant);
    if (own >= this.limits.perTenant && !this.evictOldestIdle([...this.slots].filter((s) => s.tenant === tenant))) {
      return { admitted: false, refusal: this.refusal('tenant', own, this.limits.perTenant) };
    }
    if (this.slots.size >= this.limits.max && !this.evictOldestIdle(this.largerTenantsThan(this.countOf(tenant)))) {
      return { admitted: false, refusal: this.refusal('server', this.slots.size, this.limits.max) };
    }
    const slot: Slot = { tenant, lastActive: this.now(), busy: 0, close, timer: undefined };
    this.slots.add(slot);
    this.armExpiry(slot, this.limits.idleMs);
    return { admitted: true, lease: this.leaseOf(slot) };
  }

  get activeSessions(): number {
    return this.slots.size;
  }

  countOf(tenant: TenantId): number {
    let count = 0;
    for (const slot of this.slots) if (slot.tenant === tenant) count += 1;
    return count;
  }

  private leaseOf(slot: Slot): SessionLease {
    return {
      run: async (work) => {
        slot.busy += 1;
        slot.lastActive = this.now();
        try {
          return await work();
        } finally {
          slot.busy -= 1;
          slot.lastActive = this.now();
        }
      },
      release: () => this.remove(slot),
    };
  }

  /** The slots of the tenants holding the most sessions, if that is more than `than`. */
  private largerTenantsThan(than: number): Slot[] {
    const counts = new Map<TenantId, number>();
    for (const slot of this.slots) counts.set(slot.tenant, (counts.get(slot.tenant) ?? 0) + 1);
    const most = Math.max(0, ...counts.values());
    if (most <= than) return [];
    return [...this.slots].filter((slot) => counts.get(slot.tenant) === most);
  }

  /** Closes the least recently active idle slot among `candidates`; false if all are busy. */
  private evictOldestIdle(candidates: Slot[]): boolean {
    const idle = candidates.filter((slot) => slot.busy === 0).sort((a, b) => a.lastActive - b.lastActive);
    const oldest = idle[0];
    if (oldest === undefined) return false;
    this.end(oldest, 'evicted');
    return true;
  }

  private armExpiry(slot: Slot, afterMs: number): void {
    slot.timer = setTimeout(() => {
      if (!this.slots.has(slot)) return;
      const idleFor = this.now() - slot.lastActive;
      if (slot.busy === 0 && idleFor >= this.limits.idleMs) this.end(slot, 'idle_expired');
      else this.armExpiry(slot, Math.max(1, this.limits.idleMs - (slot.busy === 0 ? idleFor : 0)));
    }, afterMs);
    slot.timer.unref();
  }

  /** Frees the slot at once (the session's own close completes later) and asks the session to close. */
  private end(slot: Slot, reason: CloseReason): void {
    this.remove(slot);
    try {
      slot.close(reason);
    } catch {
      // A session that fails to close has lost its slot all the same.
    }
  }

  private remove(slot: Slot): void {
    clearTimeout(slot.timer);
    this.slots.delete(slot);
  }

  private refusal(scope: CapacityRefusal['scope'], active: number, max: number): CapacityRefusal {
    const message =
      scope === 'server'
        ? `Server at capacity: ${active}/${max} sessions active, none of them idle. Try again when one ends.`
        : `This tenant's sessions are at their limit: ${active}/${max} active, none of them idle. Close one (or wait for one to finish) and try again.`;
    return { scope, message, active_sessions: active, max_sessions: max };
  }
}
