import { describe, expect, it } from 'vitest';
import { AnswerCache, cacheKey } from '../src/answer-cache.js';

const parts = { principal: 'token:a', tier: 'speed', model: 'haiku', cwd: '/w', prompt: 'p' };

describe('AnswerCache', () => {
  it('keys differ for any differing part', () => {
    const base = cacheKey(parts);
    expect(cacheKey({ ...parts })).toBe(base);
    for (const change of [
      { principal: 'token:b' },
      { tier: 'x' },
      { model: 'sonnet' },
      { cwd: '/v' },
      { prompt: 'p ' },
      { systemPrompt: '' },
    ])
      expect(cacheKey({ ...parts, ...change })).not.toBe(base);
  });

  it('expires entries after their TTL', () => {
    const c = new AnswerCache<string>({ maxEntries: 10, maxBytes: 10_000 });
    c.set('k', 'v', 1000, 0);
    expect(c.get('k', 999)?.value).toBe('v');
    expect(c.get('k', 999)?.ageMs).toBe(999);
    expect(c.get('k', 1000)).toBeUndefined();
    expect(c.stats.entries).toBe(0);
  });

  it('evicts the least recently used beyond the entry and byte limits', () => {
    const c = new AnswerCache<string>({ maxEntries: 2, maxBytes: 10_000 });
    c.set('a', 'A', 1e6, 0);
    c.set('b', 'B', 1e6, 0);
    c.get('a', 1);
    c.set('c', 'C', 1e6, 2);
    expect(c.get('b', 3)).toBeUndefined();
    expect(c.get('a', 3)?.value).toBe('A');
    const small = new AnswerCache<string>({ maxEntries: 100, maxBytes: 20 });
    small.set('x', '1234567890', 1e6, 0);
    small.set('y', '1234567890', 1e6, 0);
    expect(small.stats.bytes).toBeLessThanOrEqual(20);
    expect(small.get('x', 1)).toBeUndefined();
    expect(small.get('y', 1)?.value).toBe('1234567890');
    small.set('huge', 'z'.repeat(100), 1e6, 0);
    expect(small.get('huge', 1)).toBeUndefined();
  });
});
