import { describe, expect, it } from 'vitest';
import { OnDemand } from '../src/on-demand.js';

// The stdio server's engine is an OnDemand: nothing is built until get() or start() is called; looking never starts it.
describe('OnDemand', () => {
  it('starts its work at the first get(), once, and settles every caller with the same value', async () => {
    let runs = 0;
    const p = new OnDemand(async () => ++runs);
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(0);
    expect(p.started).toBe(false);
    expect(await Promise.all([p.get(), p.get(), p.get().then((v) => v * 10)])).toEqual([1, 1, 10]);
    expect(runs).toBe(1);
    expect(p.started).toBe(true);
  });

  it('looking at it (started, begun, awaiting the handle itself) does not start it', async () => {
    let runs = 0;
    const p = new OnDemand(async () => ++runs);
    let begun = false;
    void p.begun.then(() => (begun = true));
    // Not a thenable: awaiting the handle gives the handle back and starts nothing.
    expect(await Promise.resolve(p)).toBe(p);
    expect('then' in p).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    expect([runs, begun, p.started]).toEqual([0, false, false]);
  });

  it('start() starts it without waiting; begun settles then', async () => {
    let runs = 0;
    const p = new OnDemand(async () => ++runs);
    p.start();
    p.start();
    await p.begun;
    expect(await p.get()).toBe(1);
    expect(runs).toBe(1);
  });

  it('a failure reaches get() (start() leaves no unhandled rejection); a maker that throws rejects', async () => {
    const failing = new OnDemand<number>(async () => {
      throw new Error('no engine');
    });
    failing.start();
    await expect(failing.get()).rejects.toThrow('no engine');
    const throwing = new OnDemand<number>(() => {
      throw new Error('thrown');
    });
    expect(await throwing.get().catch((e: Error) => e.message)).toBe('thrown');
  });

  it('of() is one already built', async () => {
    const p = OnDemand.of('engine');
    expect(p.started).toBe(true);
    expect(await p.get()).toBe('engine');
  });
});
