import type { Redis } from 'ioredis';
import { ToolError } from '../../errors.js';

// The shared queue's places, counted per principal in Redis: <prefix>:qshare:<principal> is a sorted set of the
// principal's queued task ids (score: when the place was taken), <prefix>:qshare-principals the principals that
// hold places. A place is given up when its task's record leaves "queued" (a worker claimed it, it was killed or
// refused); the script prunes those as it counts, so no server has to release anything, and a server that dies
// leaks nothing. A place whose record never came (its enqueue failed after the place was taken) goes after GIVE_UP_MS.
// KEYS[1]: the principals set, KEYS[2]: this principal's places. ARGV: prefix, principal, task id, maxQueue,
// perPrincipalQueue ('' for none), give-up ms.
// Returns { verdict (1 placed, 0 over its share, -1 twice maxQueue), its queued, its share, all queued, active }.
// Not declared, because no caller can know them before the script runs: the other principals' places (named by
// KEYS[1]'s members) and the records of the tasks in them (named by those sets' members), read to count the queue in
// one atomic step. This is fine on one Redis (what the cluster of servers runs on, compose.yaml) and on a replicated
// one; a Redis Cluster would need every key of the prefix in one hash slot (a {hash tag} in it), which redis.prefix
// does not allow (nor does the BullMQ queue work without one): the server does not run on a Redis Cluster.
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prefix, me, id = ARGV[1], ARGV[2], ARGV[3]
local maxQueue, per, giveUp = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('SADD', KEYS[1], me)
local mineKey = KEYS[2]
local total, active, mine = 0, 0, 0
for _, p in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local pkey = prefix .. ':qshare:' .. p
  local entries = redis.call('ZRANGE', pkey, 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    local state = redis.call('HGET', prefix .. ':task:' .. entries[i], 'state')
    if (state and state ~= 'queued') or ((not state) and now - tonumber(entries[i + 1]) > giveUp) then
      redis.call('ZREM', pkey, entries[i])
    end
  end
  local n = redis.call('ZCARD', pkey)
  if p == me then mine = n end
  if n > 0 or p == me then
    active = active + 1
    total = total + n
  else
    redis.call('SREM', KEYS[1], p)
  end
end
local share = per or math.max(1, math.ceil(maxQueue / active))
share = math.min(maxQueue, share)
if mine >= share then return { 0, mine, share, total, active } end
if total >= 2 * maxQueue then return { -1, mine, share, total, active } end
redis.call('ZADD', mineKey, now, id)
return { 1, mine, share, total, active }
`;

// A job record that never arrived gives its place back after this long (the cluster's own give-up time).
const GIVE_UP_MS = 60_000;

// What the shares need of the limits (the same keys as the local scheduler's).
export interface QueueShareLimits {
  maxQueue: number;
  perPrincipalQueue?: number;
}

const whoIs = (principal: string): string =>
  principal.startsWith('token:')
    ? `token "${principal.slice('token:'.length)}"`
    : principal === 'local'
      ? 'the local user'
      : principal;

// The shared queue's fair share per principal, as the local scheduler gives it (limits.perPrincipalQueue, else
// maxQueue shared by the principals with queued tasks; one under its share gets a place even in a full queue, never
// beyond twice maxQueue), and the order it is served in: a job's priority is its principal's place count, so every
// principal's first queued task runs before anyone's second.
export class QueueShares {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  // Takes a place for task `id` of `principal`; returns the job's priority, or throws a ToolError with the
  // principal's own numbers when it is over its share.
  async admit(principal: string, id: string, limits: QueueShareLimits): Promise<number> {
    const per = limits.perPrincipalQueue === undefined ? '' : String(limits.perPrincipalQueue);
    const args = [this.prefix, principal, id, String(limits.maxQueue), per, String(GIVE_UP_MS)];
    const keys = [`${this.prefix}:qshare-principals`, `${this.prefix}:qshare:${principal}`];
    const reply = (await this.redis.eval(ADMIT, keys.length, ...keys, ...args)) as number[];
    const [verdict, mine, share, total, active] = reply.map(Number) as [number, number, number, number, number];
    if (verdict === 1) return mine + 1;
    const who = whoIs(principal);
    const retry =
      'Wait for one of its tasks to finish (task_status with task_ids and wait_for "any") or kill one, then retry.';
    const limitsText = `limits: maxQueue ${limits.maxQueue}${per ? `, perPrincipalQueue ${per}` : ''}`;
    if (verdict === 0) {
      const why = per ? 'limits.perPrincipalQueue' : `maxQueue shared by ${active} active principals`;
      throw new ToolError(
        `queue full: ${mine} queued for ${who} in the shared queue, its whole share (${share} places: ${why}); ` +
          `the cluster has ${total} queued (${limitsText}). ${retry}`,
      );
    }
    throw new ToolError(
      `queue full: ${total} queued in the shared queue, twice maxQueue while principals over their share drain ` +
        `(${limitsText}); ${who} has ${mine} queued. ${retry}`,
    );
  }
}
