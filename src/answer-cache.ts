import { createHash } from 'node:crypto';

export interface CacheKeyParts {
  /** Who asked: one principal never gets (or learns of) another's cached answer. */
  principal: string;
  tier: string;
  model: string;
  cwd: string;
  systemPrompt?: string;
  prompt: string;
}

interface Entry<T> {
  value: T;
  at: number;
  expiresAt: number;
  bytes: number;
}

// Identical key parts (the asking principal included) give the same key; any difference (even white space) gives
// another.
export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256')
    .update(
      JSON.stringify([parts.principal, parts.tier, parts.model, parts.cwd, parts.systemPrompt ?? null, parts.prompt]),
    )
    .digest('hex');
}

// A bounded LRU of answers (by entries and bytes) with a TTL per entry.
export class AnswerCache<T> {
  private readonly map = new Map<string, Entry<T>>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly limits: { maxEntries: number; maxBytes: number }) {}

  get(key: string, now = Date.now()): { value: T; ageMs: number } | undefined {
    const e = this.map.get(key);
    if (!e || e.expiresAt <= now) {
      if (e) this.delete(key);
      this.misses++;
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, e);
    this.hits++;
    return { value: e.value, ageMs: now - e.at };
  }

  set(key: string, value: T, ttlMs: number, now = Date.now()): void {
    const bytes = Buffer.byteLength(JSON.stringify(value));
    if (ttlMs <= 0 || bytes > this.limits.maxBytes || this.limits.maxEntries === 0) return;
    this.delete(key);
    this.map.set(key, { value, at: now, expiresAt: now + ttlMs, bytes });
    this.bytes += bytes;
    while (this.map.size > this.limits.maxEntries || this.bytes > this.limits.maxBytes) {
      const oldest = this.map.keys().next().value as string;
      this.delete(oldest);
    }
  }

  private delete(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.bytes -= e.bytes;
    this.map.delete(key);
  }

  get stats(): { entries: number; bytes: number; hits: number; misses: number } {
    return { entries: this.map.size, bytes: this.bytes, hits: this.hits, misses: this.misses };
  }
}
