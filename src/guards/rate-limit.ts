import { ToolError } from '../errors.js';

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_BUCKETS = 1000;

// A wait in seconds, rounded up to a tenth so it never reads "retry in 0.0 s".
const seconds = (ms: number): string => (Math.ceil(ms / 100) / 10).toFixed(1);

// Token buckets per client session and one global: a refused call says when to retry.
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly global: Bucket;
  private readonly globalCapacity: number;

  constructor(private readonly options: { perMinute: number; burst: number; globalPerMinute: number }) {
    // The global bucket holds ten seconds' worth (at least one client's burst) and starts full.
    this.globalCapacity = Math.max(options.burst, Math.ceil(options.globalPerMinute / 6), 1);
    this.global = { tokens: this.globalCapacity, at: Date.now() };
  }

  private take(bucket: Bucket, perMinute: number, capacity: number, now: number): number {
    bucket.tokens = Math.min(capacity, bucket.tokens + (Math.max(0, now - bucket.at) / 60_000) * perMinute);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / perMinute) * 60_000);
  }

  // A bucket that has refilled to its burst says nothing a new bucket would not: drop those (long-lived HTTP servers).
  private forgetRefilled(now: number): void {
    const { perMinute, burst } = this.options;
    for (const [id, b] of this.buckets)
      if (b.tokens + (Math.max(0, now - b.at) / 60_000) * perMinute >= burst) this.buckets.delete(id);
  }

  get clients(): number {
    return this.buckets.size;
  }

  // How many calls this client (and the server in all) could start now, without taking any; null: no limit.
  headroom(clientId: string, now = Date.now()): { client: number | null; global: number | null } {
    const { perMinute, burst, globalPerMinute } = this.options;
    const level = (b: Bucket | undefined, rate: number, cap: number) =>
      b ? Math.min(cap, b.tokens + (Math.max(0, now - b.at) / 60_000) * rate) : cap;
    return {
      client: perMinute > 0 ? Math.floor(level(this.buckets.get(clientId), perMinute, burst)) : null,
      global: globalPerMinute > 0 ? Math.floor(level(this.global, globalPerMinute, this.globalCapacity)) : null,
    };
  }

  // Takes one token for this client (and one globally) or throws with the wait.
  admit(clientId: string, now = Date.now()): void {
    const { perMinute, burst, globalPerMinute } = this.options;
    if (perMinute > 0) {
      let b = this.buckets.get(clientId);
      if (!b) {
        if (this.buckets.size >= MAX_BUCKETS) this.forgetRefilled(now);
        this.buckets.set(clientId, (b = { tokens: burst, at: now }));
      }
      const wait = this.take(b, perMinute, burst, now);
      if (wait > 0)
        throw new ToolError(
          `rate limited: this client may start ${perMinute} calls a minute (burst ${burst}); retry ` +
            `in ${seconds(wait)} s`,
        );
    }
    if (globalPerMinute > 0) {
      const wait = this.take(this.global, globalPerMinute, this.globalCapacity, now);
      if (wait > 0)
        throw new ToolError(
          `rate limited: the server takes ${globalPerMinute} calls a minute in all; retry in ${seconds(wait)} s`,
        );
    }
  }
}
