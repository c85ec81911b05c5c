import { describe, expect, it } from 'vitest';
import { OnDemand } from '../src/on-demand.js';

// The stdio server's engine is an OnDemand: nothing is built until something waits for it or start() is called.
describe('OnDemand', () => {
  it('starts its work at the first await, once, and settles every waiter with the same value', async () => {
    let runs = 0;
    const p = new OnDemand(async () => ++runs);
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(0);
    expect(p.started).toBe(false);
    expect(await Promise.all([p, p, p.then((v) => v * 10)])).toEqual([1, 1, 10]);
    expect(runs).toBe(1);
    expect(p.started).toBe(true);
  });

  it('start() starts it without waiting; begun settles then, and waiting on begun does not start it', async () => {
    let runs = 0;
    const p = new OnDemand(async () => ++runs);
    let begun = false;
    void p.begun.then(() => (begun = true));
    await new Promise((r) => setTimeout(r, 20));
    expect([runs, begun]).toEqual([0, false]);
    p.start();
    p.start();
    await p.begun;
    expect(begun).toBe(true);
    expect(await p).toBe(1);
    expect(runs).toBe(1);
  });

  it('a failure reaches catch, and a maker that throws at once rejects instead of throwing', async () => {
    const failing = new OnDemand<number>(async () => {
      throw new Error('no engine');
    });
    await expect(failing).rejects.toThrow('no engine');
    const throwing = new OnDemand<number>(() => {
      throw new Error('thrown');
    });
    expect(await throwing.catch((e: Error) => e.message)).toBe('thrown');
  });
});
