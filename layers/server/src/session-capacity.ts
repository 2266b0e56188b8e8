/**
 * Counts the live stateful sessions (WebSocket /ws and /mcp connections, standard MCP
 * sessions) against a maximum, as OpenEnv's max_concurrent_envs does.
 */
export class SessionCapacity {
  private active = 0;

  constructor(readonly max: number) {}

  /** Takes a slot; false when the server is at capacity. */
  acquire(): boolean {
    if (this.active >= this.max) return false;
    this.active += 1;
    return true;
  }

  release(): void {
    this.active = Math.max(0, this.active - 1);
  }

  get activeSessions(): number {
    return this.active;
  }
}
