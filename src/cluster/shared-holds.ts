import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DailyBudgets } from '../cost/daily-budgets.js';

// How often a server publishes its holds and reads the others'; a hold not refreshed for TTL_MS is a dead server's.
const REFRESH_MS = 1000;
const TTL_MS = 10_000;

// Budget holds every server of a cluster sees: what each server's calls in flight hold back of a principal's budget
// is written to one hash in Redis, <prefix>:held (field "<server>\t<principal>", value "<usd>\t<expires at ms>"), as
// it changes and again every second; each server reads the others' and counts them when it admits a call. Within one
// refresh two servers can still admit the same last call each; beyond it, parallel calls spread over the cluster
// overshoot a budget by at most one estimate per server that admitted in that second.
export function shareHolds(budgets: DailyBudgets, redis: Redis, prefix: string, configured: boolean): () => void {
  if (!configured) return () => {};
  const key = `${prefix}:held`;
  const me = randomUUID();
  const mine = new Map<string, number>();
  const field = (principal: string) => `${me}\t${principal}`;
  const publish = async () => {
    if (redis.status !== 'ready') return;
    const until = Date.now() + TTL_MS;
    const multi = redis.multi();
    for (const [principal, usd] of mine) {
      if (usd > 0) multi.hset(key, field(principal), `${usd}\t${until}`);
      else multi.hdel(key, field(principal));
    }
    await multi.exec().catch(() => undefined);
    for (const [principal, usd] of mine) if (!(usd > 0)) mine.delete(principal);
  };
  budgets.onHeld((principal, usd) => {
    mine.set(principal, usd);
    void publish();
  });
  const pull = async () => {
    await publish();
    if (redis.status !== 'ready') return;
    const all = await redis.hgetall(key).catch(() => undefined);
    if (!all) return;
    const now = Date.now();
    const held: Record<string, number> = {};
    const expired: string[] = [];
    for (const [f, v] of Object.entries(all)) {
      const [server, principal] = f.split('\t');
      const [usd, until] = v.split('\t').map(Number);
      if (!principal || !(usd! > 0) || !(until! > now)) expired.push(f);
      else if (server !== me) held[principal] = (held[principal] ?? 0) + usd!;
    }
    if (expired.length) await redis.hdel(key, ...expired).catch(() => 0);
    budgets.absorbHeld(held);
  };
  const timer = setInterval(() => void pull(), REFRESH_MS);
  timer.unref();
  void pull();
  return () => {
    clearInterval(timer);
    const fields = [...mine.keys()].map(field);
    mine.clear();
    if (fields.length) void redis.hdel(key, ...fields).catch(() => 0);
  };
}
