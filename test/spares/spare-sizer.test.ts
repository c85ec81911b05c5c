import { describe, expect, it } from 'vitest';
import { SpareSizer } from '../../src/spares/spare-sizer.js';

describe('SpareSizer', () => {
  const bounds = { min: 1, max: 4 };
  const opts = { warmupS: 1.5, idleS: 60, tauS: 10 };

  it('keeps the min without demand, and grows with a burst up to the max', () => {
    const s = new SpareSizer(bounds, opts);
    expect(s.target(10, 0)).toBe(1);
    for (let i = 0; i < 10; i++) s.arrival(1000 + i * 50);
    expect(s.target(10, 1500)).toBe(3);
    for (let i = 0; i < 20; i++) s.arrival(2000 + i * 50);
    expect(s.target(10, 3000)).toBe(4);
  });

  it('is bounded by the memory budget', () => {
    const s = new SpareSizer(bounds, opts);
    for (let i = 0; i < 30; i++) s.arrival(i * 10);
    expect(s.target(2, 400)).toBe(2);
  });

  it('decays with time and goes back to the min after the idle period', () => {
    const s = new SpareSizer(bounds, opts);
    for (let i = 0; i < 30; i++) s.arrival(i * 10);
    expect(s.target(10, 400)).toBe(4);
    expect(s.target(10, 30_000)).toBeLessThan(4);
    expect(s.target(10, 61_000)).toBe(1);
    const none = new SpareSizer({ min: 0, max: 4 }, opts);
    none.arrival(0);
    expect(none.target(10, 61_000)).toBe(0);
  });
});
