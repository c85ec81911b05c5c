import type { Redis } from 'ioredis';
import type { Logger } from '../../log.js';
import { isFinal, readTaskRecord, type EventLine, type TaskRecord, type TaskState } from '../types.js';

// Writes a record when its stored state is one of ARGV[9..] ("*": any; "none": there is no record yet) and, when
// ARGV[8] is set, its stored owner is ARGV[8]; keeps the index and the sets of queued and claimed tasks, and announces
// the change. Atomic, so a claim, a kill of a queued task, a "lost" and an owner's write never both win.
const SCRIPT = `
local cur = redis.call('HGET', KEYS[1], 'state')
if cur and ARGV[8] ~= '' and redis.call('HGET', KEYS[1], 'owner') ~= ARGV[8] then return 0 end
local ok = false
for i = 9, #ARGV do
  if ARGV[i] == '*' or ARGV[i] == cur or (ARGV[i] == 'none' and not cur) then ok = true end
end
if not ok then return 0 end
redis.call('HSET', KEYS[1], 'rec', ARGV[1], 'state', ARGV[2], 'owner', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
if ARGV[6] == '1' then redis.call('SADD', KEYS[3], ARGV[5]) else redis.call('SREM', KEYS[3], ARGV[5]) end
if ARGV[2] == 'queued' then redis.call('SADD', KEYS[4], ARGV[5]) else redis.call('SREM', KEYS[4], ARGV[5]) end
redis.call('PUBLISH', ARGV[7], ARGV[5])
return 1
`;

const MAX_UNREADABLE = 1000;

const CLAIMED: ReadonlySet<TaskState> = new Set<TaskState>(['running', 'needs_input']);

// Task records, their index and their capped event streams in Redis: <prefix>:task:<id> (a hash: rec, state, owner),
// <prefix>:tasks (ids by creation time), <prefix>:queued and <prefix>:claimed (tasks waiting, and running on some
// worker), <prefix>:ev:<id> (a stream).
export class SharedRecords {
  readonly changedChannel: string;
  /** Ids whose stored record is not a task record, and why (the newest MAX_UNREADABLE). */
  private readonly unreadable = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
    private readonly eventCap: number,
    private readonly log?: Logger,
  ) {
    this.changedChannel = `${prefix}:changed`;
  }

  // Why the stored record of this id could not be read, when it could not (as of the last read).
  unreadableWhy = (id: string): string | undefined => this.unreadable.get(id);

  // A record as stored, checked: one that is not a task record is as good as none (it never stops a listing, a status
  // or a sweep); it is logged once, and its id reads as "unreadable record".
  private parsed(id: string, json: string): TaskRecord | undefined {
    let value: unknown;
    let why: string;
    try {
      value = JSON.parse(json);
      const read = readTaskRecord(value);
      if ('record' in read && read.record.id === id) {
        this.unreadable.delete(id);
        return read.record;
      }
      why = 'record' in read ? `it holds the record of ${read.record.id}` : read.unreadable;
    } catch (err) {
      why = `not JSON (${(err as Error).message})`;
    }
    const first = !this.unreadable.has(id);
    if (first) this.log?.warn({ task: id, key: this.key(id), why }, 'cluster: unreadable task record skipped');
    this.unreadable.delete(id);
    this.unreadable.set(id, why);
    if (this.unreadable.size > MAX_UNREADABLE) this.unreadable.delete(this.unreadable.keys().next().value!);
    return undefined;
  }

  private key = (id: string): string => `${this.prefix}:task:${id}`;
  private events = (id: string): string => `${this.prefix}:ev:${id}`;

  // Writes the record when its stored state is one of `from` (default: whatever it is, none included); true when
  // written. With `owner`: only while the stored record is still that server's (an owner's write never revives a task
  // another server declared lost).
  async put(
    record: Readonly<TaskRecord>,
    from: ReadonlyArray<TaskState | '*' | 'none'> = ['*'],
    owner = '',
  ): Promise<boolean> {
    const claimed = CLAIMED.has(record.state);
    const keys = [this.key(record.id), `${this.prefix}:tasks`, `${this.prefix}:claimed`, `${this.prefix}:queued`];
    const done = Number(
      await this.redis.eval(
        SCRIPT,
        keys.length,
        ...keys,
        JSON.stringify(record),
        record.state,
        record.owner.serverId,
        String(record.createdAt),
        record.id,
        claimed ? '1' : '0',
        this.changedChannel,
        owner,
        ...from,
      ),
    );
    return done === 1;
  }

  // What claude is sent when it is more than the prompt (images): kept with the record until a worker claims the task.
  async putContent(id: string, content: unknown): Promise<void> {
    await this.redis.hset(this.key(id), 'content', JSON.stringify(content));
  }

  // Takes the content out (the claimer holds it from now on).
  async takeContent(id: string): Promise<unknown> {
    const [json] = (await this.redis.multi().hget(this.key(id), 'content').hdel(this.key(id), 'content').exec()) ?? [];
    return typeof json?.[1] === 'string' ? JSON.parse(json[1]) : undefined;
  }

  async read(id: string): Promise<TaskRecord | undefined> {
    const json = await this.redis.hget(this.key(id), 'rec');
    return json ? this.parsed(id, json) : undefined;
  }

  async readMany(ids: string[]): Promise<Array<TaskRecord | undefined>> {
    if (!ids.length) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hget(this.key(id), 'rec');
    const out = (await pipe.exec()) ?? [];
    return out.map(([err, json], i) => (!err && typeof json === 'string' ? this.parsed(ids[i]!, json) : undefined));
  }

  // The newest records, newest first, `wanted` ones only, reading at most `scan` of them.
  async newest(wanted: (r: TaskRecord) => boolean, limit: number, scan: number): Promise<TaskRecord[]> {
    const out: TaskRecord[] = [];
    for (let skip = 0; skip < scan && out.length < limit; skip += 100) {
      const ids = await this.newestIds(100, skip);
      for (const rec of await this.readMany(ids)) if (rec && wanted(rec) && out.length < limit) out.push(rec);
      if (ids.length < 100) break;
    }
    return out;
  }

  // Task ids newest first.
  newestIds(count: number, skip = 0): Promise<string[]> {
    return this.redis.zrevrange(`${this.prefix}:tasks`, skip, skip + count - 1);
  }

  // Ids of the tasks some worker claimed and has not finished.
  claimedIds(): Promise<string[]> {
    return this.redis.smembers(`${this.prefix}:claimed`);
  }

  // Ids of the tasks that wait for a worker.
  queuedIds(): Promise<string[]> {
    return this.redis.smembers(`${this.prefix}:queued`);
  }

  // Appends one rendered event line to the task's capped stream (its entry id is the event's sequence number).
  async appendEvent(id: string, seq: number, text: string): Promise<void> {
    await this.redis.xadd(this.events(id), 'MAXLEN', '~', this.eventCap, `${seq}-0`, 't', text);
  }

  // Event lines from sequence number `from` on, or the last `tail` when from is undefined.
  async readEvents(id: string, opts: { from?: number; limit: number }): Promise<EventLine[]> {
    if (opts.limit <= 0) return [];
    const rows =
      opts.from !== undefined
        ? await this.redis.xrange(this.events(id), `${opts.from}-0`, '+', 'COUNT', opts.limit)
        : ((await this.redis.xrevrange(this.events(id), '+', '-', 'COUNT', opts.limit)) ?? []).reverse();
    return (rows ?? []).map(([entry, fields]) => ({ seq: Number.parseInt(entry, 10), at: 0, text: fields[1] ?? '' }));
  }

  // Removes finished tasks older than maxAgeDays and the oldest beyond maxTasks, with their streams.
  async prune(opts: { maxAgeDays: number; maxTasks: number; now?: number }): Promise<number> {
    const cutoff = (opts.now ?? Date.now()) - opts.maxAgeDays * 86_400_000;
    const old = await this.redis.zrangebyscore(`${this.prefix}:tasks`, '-inf', cutoff, 'LIMIT', 0, 500);
    const total = await this.redis.zcard(`${this.prefix}:tasks`);
    const excess =
      total > opts.maxTasks
        ? await this.redis.zrange(`${this.prefix}:tasks`, 0, Math.min(total - opts.maxTasks, 500) - 1)
        : [];
    const ids = [...new Set([...old, ...excess])];
    let removed = 0;
    for (const [i, rec] of (await this.readMany(ids)).entries()) {
      if (rec && !isFinal(rec.state)) continue;
      await this.redis
        .multi()
        .del(this.key(ids[i]!))
        .del(this.events(ids[i]!))
        .zrem(`${this.prefix}:tasks`, ids[i]!)
        .exec();
      removed++;
    }
    return removed;
  }
}
