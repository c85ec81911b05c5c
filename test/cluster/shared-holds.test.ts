import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shareBudgets } from '../../src/cluster/shared-limits.js';
import { DailyBudgets } from '../../src/cost/daily-budgets.js';
import { waitFor } from '../support/harness.js';
import { startRedis, type TestRedis } from '../support/redis.js';

// Issue 19 item 11 in a cluster: what one server's calls in flight hold back of a token's budget counts on every
// server (real redis-server), so parallel calls spread over the cluster no longer each get the whole budget.
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis({ persist: false });
});
afterAll(async () => {
  await redis?.close();
});

describe('budget holds shared through Redis', () => {
  it(
    'a server refuses a token whose calls in flight on another server hold its budget, and admits it once ' +
      'they end',
    async () => {
      const prefix = `ct-holds-${process.pid}`;
      const make = () => {
        const budgets = new DailyBudgets({ budgets: { tiny: 0.005 } });
        const conn = new Redis(redis.url);
        const stop = shareBudgets(budgets, conn, prefix, true);
        return { budgets, conn, stop };
      };
      const x = make();
      const y = make();
      try {
        await waitFor(() => x.conn.status === 'ready' && y.conn.status === 'ready', 10_000);
        // Two calls in flight on server x hold $0.006 of tiny's $0.005.
        const releases = [x.budgets.reserve('token:tiny', 0.003), x.budgets.reserve('token:tiny', 0.003)];
        // Server y sees the holds within its refresh and refuses, with the held amount in the message.
        const refused = await waitFor(() => {
          try {
            y.budgets.reserve('token:tiny', 0.001)();
            return undefined;
          } catch (err) {
            return (err as Error).message;
          }
        }, 10_000);
        expect(refused).toMatch(/token "tiny" has spent \$0\.0000 .* calls still running are estimated at \$0\.0060/);
        // Another principal is not held back.
        expect(() => y.budgets.reserve('token:other', 0.001)()).not.toThrow();
        // The calls end: y admits tiny again once it has read that.
        for (const release of releases) release();
        expect(
          await waitFor(() => {
            try {
              y.budgets.reserve('token:tiny', 0.001)();
              return true;
            } catch {
              return false;
            }
          }, 10_000),
        ).toBe(true);
        // A server that stops takes its holds out of Redis.
        x.budgets.reserve('token:tiny', 0.003);
        await waitFor(async () => Object.keys(await y.conn.hgetall(`${prefix}:held`)).length === 1, 10_000);
        x.stop();
        expect(
          await waitFor(async () => Object.keys(await y.conn.hgetall(`${prefix}:held`)).length === 0, 10_000),
        ).toBe(true);
      } finally {
        x.stop();
        y.stop();
        x.conn.disconnect();
        y.conn.disconnect();
      }
    },
  );
});
