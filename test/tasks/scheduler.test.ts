import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/tasks/scheduler.js';

// The scheduler's fair share (issue 19, item 8), without claude: who gets a free slot, who gets a queue place.
const never = new AbortController().signal;

describe('Scheduler: fair share between principals', () => {
  it(
    'gives a free slot to the principal with the fewest running, equals in turn, arrival order within ' + 'one',
    async () => {
      const s = new Scheduler({ maxRunning: 2, maxQueue: 100 });
      const order: string[] = [];
      const releases: Array<() => void> = [];
      const take = (p: string, tag: string) =>
        void s.acquire(never, p).then((release) => {
          order.push(tag);
          releases.push(release);
        });
      for (let i = 1; i <= 4; i++) take('token:a', `a${i}`);
      take('token:b', 'b1');
      take('token:b', 'b2');
      take('token:c', 'c1');
      await new Promise((r) => setImmediate(r));
      // a took both free slots (alone at the time); then a3, a4, b1, b2, c1 wait.
      expect(order).toEqual(['a1', 'a2']);
      expect(s.countsOf('token:a')).toMatchObject({ running: 2, queued: 2, runningShare: 1 });
      // Each freed slot goes to whoever has the fewest running: b and c (0) before a, b before c (b waited longer).
      for (let i = 0; i < 5; i++) {
        releases.shift()!();
        await new Promise((r) => setImmediate(r));
      }
      expect(order).toEqual(['a1', 'a2', 'b1', 'c1', 'a3', 'b2', 'a4']);
    },
  );

  it(
    'queue places: a principal alone may fill maxQueue; the next still gets its share, then is refused with ' +
      'its own numbers',
    () => {
      const s = new Scheduler({ maxRunning: 1, maxQueue: 4 });
      const stop = new AbortController();
      for (let i = 0; i < 5; i++) {
        s.checkRoom('token:a');
        void s.acquire(stop.signal, 'token:a').catch(() => {});
      }
      expect(() => s.checkRoom('token:a')).toThrow(
        /^queue full: 1 tasks running and 4 queued for token "a", its whole share of the queue \(4 places/,
      );
      // c is under its share (ceil(4 / 2) = 2): two places although the queue holds maxQueue tasks.
      for (let i = 0; i < 2; i++) {
        s.checkRoom('token:c');
        void s.acquire(stop.signal, 'token:c').catch(() => {});
      }
      expect(() => s.checkRoom('token:c')).toThrow(
        new RegExp(
          String.raw`^queue full: 0 tasks running and 2 queued for token "c", ` +
            String.raw`its whole share of the queue \(2 places: maxQueue shared by 2 active principals\)`,
        ),
      );
      stop.abort('test over');
    },
  );

  it('never queues past twice maxQueue, honours perPrincipalQueue, and maxQueue 0 queues nothing', () => {
    const stop = new AbortController();
    const s = new Scheduler({ maxRunning: 1, maxQueue: 2 });
    for (const p of ['a', 'a', 'a', 'b', 'c']) {
      s.checkRoom(`token:${p}`);
      void s.acquire(stop.signal, `token:${p}`).catch(() => {});
    }
    expect(s.queuedCount).toBe(4);
    expect(() => s.checkRoom('token:d')).toThrow(/^queue full: 1 tasks running and 4 queued, twice maxQueue/);
    const capped = new Scheduler({ maxRunning: 1, maxQueue: 10, perPrincipalQueue: 1 });
    for (let i = 0; i < 2; i++) {
      capped.checkRoom('token:a');
      void capped.acquire(stop.signal, 'token:a').catch(() => {});
    }
    expect(() => capped.checkRoom('token:a')).toThrow(
      /its whole share of the queue \(1 places: limits\.perPrincipalQueue\)/,
    );
    const none = new Scheduler({ maxRunning: 1, maxQueue: 0 });
    none.checkRoom('local');
    void none.acquire(stop.signal, 'local').catch(() => {});
    expect(() => none.checkRoom('token:z')).toThrow(/queue full/);
    stop.abort('test over');
  });
});
