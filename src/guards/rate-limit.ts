import { ToolError } from '../errors.js';

interface Bucket {
  tokens: number;
  at: number;
}

// Token buckets per client session and one global: a refused call says when to retry.
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly global: Bucket;

  constructor(private readonly options: { perMinute: number; burst: number; globalPerMinute: number }) {
    this.global = { tokens: Math.max(options.burst, 1), at: Date.now() };
  }

  private take(bucket: Bucket, perMinute: number, capacity: number, now: number): number {
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 60_000) * perMinute);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / perMinute) * 60_000);
  }

  // Takes one token for this client (and one globally) or throws with the wait.
  admit(clientId: string, now = Date.now()): void {
    const { perMinute, burst, globalPerMinute } = this.options;
    if (perMinute > 0) {
      let b = this.buckets.get(clientId);
      if (!b) this.buckets.set(clientId, (b = { tokens: burst, at: now }));
      const wait = this.take(b, perMinute, burst, now);
      if (wait > 0) throw new ToolError(`rate limited: this client may start ${perMinute} calls a minute (burst ${burst}); retry in ${(wait / 1000).toFixed(1)} s`);
    }
    if (globalPerMinute > 0) {
      const wait = this.take(this.global, globalPerMinute, Math.max(burst, Math.ceil(globalPerMinute / 6)), now);
      if (wait > 0) throw new ToolError(`rate limited: the server takes ${globalPerMinute} calls a minute in all; retry in ${(wait / 1000).toFixed(1)} s`);
    }
  }
}
