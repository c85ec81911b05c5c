import type { Redis } from 'ioredis';
import type { DailyBudgets } from '../cost/daily-budgets.js';
import { ToolError } from '../errors.js';
import { RateLimiter } from '../guards/rate-limit.js';
import { shareHolds } from './shared-holds.js';

// One token bucket in Redis, on Redis's clock: takes a token or returns the wait in ms. KEYS[1]: the bucket;
// ARGV: capacity, tokens per minute.
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or cap
local at = tonumber(b[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - at) / 60000 * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate * 60000) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate * 60000) + 60000)
return wait
`;

// A bucket's level now, without taking a token: KEYS[1]: the bucket; ARGV: capacity, tokens per minute.
const PEEK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cap = tonumber(ARGV[1])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or cap
local at = tonumber(b[2]) or now
return math.floor(math.min(cap, tokens + math.max(0, now - at) / 60000 * tonumber(ARGV[2])))
`;

const seconds = (ms: number): string => (Math.ceil(ms / 100) / 10).toFixed(1);

// How many calls a client, and the server or cluster in all, could start now; null: no limit.
export interface Headroom {
  client: number | null;
  global: number | null;
}

// What admits a call that starts claude: this server's own buckets, or the cluster's.
export interface Admission {
  admit(clientId: string): void | Promise<void>;
  /** Calls that could start now, without taking any (null: no limit). */
  headroom?(clientId: string): Headroom | Promise<Headroom>;
}

// Rate limits every server of a cluster shares: the same buckets as RateLimiter, kept in Redis. While Redis is away,
// each server falls back to buckets of its own (a quick answer does not need Redis, and is not refused for it).
export class SharedRateLimiter implements Admission {
  private readonly local: RateLimiter;
  private readonly globalCapacity: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: { perMinute: number; burst: number; globalPerMinute: number },
  ) {
    this.local = new RateLimiter(options);
    this.globalCapacity = Math.max(options.burst, Math.ceil(options.globalPerMinute / 6), 1);
  }

  private async take(key: string, capacity: number, perMinute: number): Promise<number | undefined> {
    if (this.redis.status !== 'ready') return undefined;
    return this.redis.eval(TAKE, 1, `${this.prefix}:rate:${key}`, capacity, perMinute).then(Number, () => undefined);
  }

  // The cluster's buckets, read without taking a token; this server's own while Redis is away.
  async headroom(clientId: string): Promise<Headroom> {
    const { perMinute, burst, globalPerMinute } = this.options;
    if (this.redis.status !== 'ready') return this.local.headroom(clientId);
    const peek = (key: string, capacity: number, rate: number) =>
      this.redis.eval(PEEK, 1, `${this.prefix}:rate:${key}`, capacity, rate).then(Number, () => null);
    return {
      client: perMinute > 0 ? await peek(`client:${clientId}`, burst, perMinute) : null,
      global: globalPerMinute > 0 ? await peek('global', this.globalCapacity, globalPerMinute) : null,
    };
  }

  async admit(clientId: string): Promise<void> {
    const { perMinute, burst, globalPerMinute } = this.options;
    if (this.redis.status !== 'ready') return this.local.admit(clientId);
    if (perMinute > 0) {
      const wait = await this.take(`client:${clientId}`, burst, perMinute);
      if (wait === undefined) return this.local.admit(clientId);
      if (wait > 0)
        throw new ToolError(
          `rate limited: this client may start ${perMinute} calls a minute (burst ${burst}) across the ` +
            `cluster; retry in ${seconds(wait)} s`,
        );
    }
    if (globalPerMinute > 0) {
      const wait = await this.take('global', this.globalCapacity, globalPerMinute);
      if (wait === undefined) return this.local.admit(clientId);
      if (wait > 0)
        throw new ToolError(
          `rate limited: the cluster takes ${globalPerMinute} calls a minute in all; retry in ${seconds(wait)} s`,
        );
    }
  }
}

const REFRESH_MS = 1000;

// Daily budgets every server shares: each spend is added to today's hash in Redis (kept and retried while Redis is
// away), and each server reads the sums back once a second, with its own spend not yet added on top, so a token's
// spend on any server counts against it on all of them.
export function shareBudgets(budgets: DailyBudgets, redis: Redis, prefix: string, configured: boolean): () => void {
  if (!configured) return () => {};
  const key = (day: string) => `${prefix}:spend:${day}`;
  // Spend not yet in Redis, by day and principal.
  const unsynced = new Map<string, Map<string, number>>();
  const add = (day: string, principal: string, usd: number) => {
    const byDay = unsynced.get(day) ?? new Map<string, number>();
    unsynced.set(day, byDay);
    byDay.set(principal, (byDay.get(principal) ?? 0) + usd);
  };
  // One push at a time: two must never add the same spend twice.
  let pushing: Promise<void> | undefined;
  const push = (): Promise<void> => (pushing ??= pushAll().finally(() => (pushing = undefined)));
  const pushAll = async () => {
    for (const [day, byDay] of unsynced) {
      for (const [principal, usd] of byDay) {
        if (redis.status !== 'ready') return;
        const done = await redis
          .multi()
          .hincrbyfloat(key(day), principal, usd)
          .expire(key(day), 3 * 86_400)
          .exec()
          .then(
            () => true,
            () => false,
          );
        if (!done) return;
        const left = (byDay.get(principal) ?? 0) - usd;
        if (left > 1e-12) byDay.set(principal, left);
        else byDay.delete(principal);
      }
      if (!byDay.size || day !== budgets.today()) unsynced.delete(day);
    }
  };
  budgets.onSpend((day, principal, usd) => {
    add(day, principal, usd);
    void push();
  });
  const pull = async () => {
    await push();
    if (redis.status !== 'ready') return;
    const day = budgets.today();
    const all = await redis.hgetall(key(day)).catch(() => undefined);
    if (!all) return;
    const mine = unsynced.get(day);
    const sums: Record<string, number> = {};
    for (const [p, v] of Object.entries(all)) sums[p] = (Number.parseFloat(v) || 0) + (mine?.get(p) ?? 0);
    budgets.absorb(day, sums);
  };
  const timer = setInterval(() => void pull(), REFRESH_MS);
  timer.unref();
  void pull();
  // What calls in flight hold back is shared too (shared-holds.ts).
  const stopHolds = shareHolds(budgets, redis, prefix, configured);
  return () => {
    clearInterval(timer);
    stopHolds();
  };
}
