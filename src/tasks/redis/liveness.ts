import type { Redis } from 'ioredis';

// Every server says it is alive: <prefix>:hb:<serverId> with a time to live, renewed five times per lifetime.
export class Liveness {
  private connectedAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly serverId: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private key = (serverId: string): string => `${this.prefix}:hb:${serverId}`;

  start(about: Record<string, unknown>): void {
    const beat = () =>
      void this.redis.set(this.key(this.serverId), JSON.stringify(about), 'PX', this.ttlMs).catch(() => {});
    beat();
    this.timer = setInterval(beat, Math.max(100, Math.round(this.ttlMs / 5)));
    this.timer.unref();
  }

  // The connection is (back) up: others' heartbeats are judged only after a whole lifetime from now.
  connected(): void {
    this.connectedAt = this.now();
  }

  disconnected(): void {
    this.connectedAt = undefined;
  }

  // Whether this server may call another dead: it has been connected for longer than a heartbeat lives, so every
  // live server had time to renew its own (after a Redis restart, nobody's heartbeat is there at first).
  get canJudge(): boolean {
    return this.connectedAt !== undefined && this.now() - this.connectedAt > this.ttlMs + 500;
  }

  async alive(serverId: string): Promise<boolean> {
    return serverId === this.serverId || (await this.redis.exists(this.key(serverId))) === 1;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.redis.del(this.key(this.serverId)).catch(() => {});
  }
}
