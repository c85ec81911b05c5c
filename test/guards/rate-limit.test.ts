import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/guards/rate-limit.js';

describe('RateLimiter', () => {
  it('a client gets its burst, then waits for refill, and is told how long', () => {
    const limiter = new RateLimiter({ perMinute: 120, burst: 20, globalPerMinute: 0 });
    const t = Date.now();
    for (let i = 0; i < 20; i++) limiter.admit('a', t);
    expect(() => limiter.admit('a', t)).toThrow(
      /this client may start 120 calls a minute \(burst 20\); retry in 0\.5 s/,
    );
    limiter.admit('b', t); // other clients have their own bucket
    limiter.admit('a', t + 500);
  });

  it('the global bucket starts full: ten seconds of calls at once pass on a fresh server', () => {
    const limiter = new RateLimiter({ perMinute: 0, burst: 20, globalPerMinute: 600 });
    const t = Date.now();
    for (let i = 0; i < 100; i++) limiter.admit(`c${i % 7}`, t);
    // Never "retry in 0.0 s": the wait is rounded up to a tenth.
    expect(() => limiter.admit('c0', t)).toThrow(/the server takes 600 calls a minute in all; retry in 0\.1 s/);
    limiter.admit('c0', t + 100);
  });

  it('forgets clients whose bucket has refilled once it tracks 1000, and keeps those still throttled', () => {
    const limiter = new RateLimiter({ perMinute: 60, burst: 2, globalPerMinute: 0 });
    const t = Date.now();
    limiter.admit('busy', t);
    limiter.admit('busy', t);
    for (let i = 0; i < 999; i++) limiter.admit(`idle${i}`, t);
    expect(limiter.clients).toBe(1000);
    limiter.admit('newcomer', t + 1500); // idle buckets have refilled by now (1 token a second); busy's has not
    expect(limiter.clients).toBe(2);
    expect(() => limiter.admit('busy', t + 1500)).not.toThrow();
    expect(() => limiter.admit('busy', t + 1500)).toThrow(/retry in/);
  });
});
