import { Redis } from 'ioredis';
import type { UserContent } from '../../claude/control.js';
import type { Logger } from '../../log.js';
import type { InputAnswer } from '../input-requests.js';
import type { EndInfo, EventLine, TaskRecord } from '../types.js';
import type { ClusterHandlers, ControlMessage } from './handlers.js';
import { QueueShares, type QueueShareLimits } from './queue-shares.js';
import { JobQueue, type JobInfo } from './job-queue.js';
import { Liveness } from './liveness.js';
import { OwnerWrites } from './owner-writes.js';
import { openRedis, redisOptions, shownUrl, unreachable } from '../../cluster/redis-conn.js';
import { RemoteCache } from './remote-cache.js';
import { SharedRecords } from './shared-records.js';
import { Upkeep } from './upkeep.js';

// The redis backend's side of the cluster is typed here too, so it needs one import.
export type { ClusterHandlers, ControlMessage } from './handlers.js';

// A server is called dead after 10 s without a heartbeat: long enough for a pause of its event loop or a short
// network hiccup, short enough that its tasks do not look alive for long.
const HEARTBEAT_TTL_MS = 10_000;
const SWEEP_MS = 2000;
const PRUNE_MS = 10 * 60_000;
const CONNECT_WAIT_MS = 3000;

// How this server joins the cluster.
export interface ClusterOptions {
  url: string;
  prefix: string;
  serverId: string;
  eventCap: number;
  log: Logger;
  /** The records on this server's disk (its tasks, finished or running), newest first: written again to a Redis that
   * came back empty. */
  ownRecords: () => Iterable<TaskRecord>;
  limits: { pruneMaxAgeDays: number; pruneMaxTasks: number } & QueueShareLimits;
}

// Several servers, one queue and one task store: records, events and kills travel through Redis; the queue is
// BullMQ's. Owner writes that fail while Redis is away are kept and written when it is back.
export class Cluster {
  readonly records: SharedRecords;
  readonly remote: RemoteCache;
  private readonly redis: Redis & { lastError?: string };
  private readonly sub: Redis;
  private readonly queue: JobQueue;
  private readonly shares: QueueShares;
  private readonly liveness: Liveness;
  private readonly writes: OwnerWrites;
  private readonly upkeep: Upkeep;
  private readonly timers: NodeJS.Timeout[] = [];
  private handlers: ClusterHandlers = { control: () => {}, suspect: () => {}, tick: () => {}, refused: () => {} };
  private everReady = false;

  private constructor(private readonly opts: ClusterOptions) {
    const { url, prefix, log } = opts;
    this.redis = openRedis(
      url,
      (m) => this.down(m),
      () => void this.up(),
    );
    this.records = new SharedRecords(this.redis, prefix, opts.eventCap, log);
    this.shares = new QueueShares(this.redis, prefix);
    // An owner writes only while the task is still its own: never over a final state another server wrote.
    this.writes = new OwnerWrites(
      (rec) => this.records.put(rec, ['none', 'queued', 'running', 'needs_input'], opts.serverId),
      (rec) => this.handlers.refused(rec),
    );
    this.remote = new RemoteCache((id) => this.records.read(id));
    this.liveness = new Liveness(this.redis, prefix, opts.serverId, HEARTBEAT_TTL_MS);
    this.sub = new Redis(redisOptions(url, true));
    this.sub.on('error', () => {});
    void this.sub.subscribe(this.records.changedChannel, `${prefix}:control`).catch(() => {});
    this.sub.on('message', (channel: string, message: string) => {
      if (channel === this.records.changedChannel) return this.remote.changed(message);
      try {
        this.handlers.control(JSON.parse(message) as ControlMessage);
      } catch {
        log.warn({ message: message.slice(0, 200) }, 'cluster: unreadable control message ignored');
      }
    });
    this.queue = new JobQueue(url, prefix);
    const upkeepParts = {
      redis: this.redis,
      prefix,
      records: this.records,
      queue: this.queue,
      liveness: this.liveness,
      log,
      ownRecords: opts.ownRecords,
    };
    this.upkeep = new Upkeep({
      ...upkeepParts,
      suspect: (id) => this.handlers.suspect(id),
      tick: () => this.handlers.tick(),
    });
  }

  // Connects (waiting a little for Redis, never failing: calls fail clearly until it is there) and starts the
  // heartbeat.
  static async open(opts: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster(opts);
    const ready = Promise.all([new Promise((r) => cluster.redis.once('ready', r)), cluster.queue.ready()]);
    await Promise.race([ready, new Promise((r) => setTimeout(r, CONNECT_WAIT_MS).unref())]);
    cluster.liveness.start({ pid: process.pid });
    // Each sweep also retries owner writes a timed-out command left pending (the connection stayed up: no reconnect
    // retries them).
    const sweep = () => {
      cluster.writes.retry();
      void cluster.upkeep.sweep();
    };
    cluster.timers.push(
      setInterval(sweep, SWEEP_MS),
      setInterval(() => void cluster.upkeep.prune(opts.limits), PRUNE_MS),
    );
    for (const t of cluster.timers) t.unref();
    return cluster;
  }

  // The command connection, for what else the servers share (rate limits, budgets).
  get connection(): Redis {
    return this.redis;
  }

  get url(): string {
    return shownUrl(this.opts.url);
  }

  // Puts a new task in the shared queue; a ToolError when Redis is away.
  enqueue(record: TaskRecord, content?: UserContent): Promise<void> {
    return this.shared(async () => {
      // The job goes first: a record in Redis always has a job, so a task whose enqueue failed never runs later.
      // A place of the principal's fair share first (refused with its own numbers), then the job in that order.
      await this.queue.add(
        record.id,
        await this.shares.admit(record.principal ?? 'local', record.id, this.opts.limits),
      );
      if (content !== undefined && typeof content !== 'string') await this.records.putContent(record.id, content);
      await this.records.put(record, ['none']);
      this.remote.store(record);
    });
  }

  // A call that needs Redis: refused at once while the connection is down (the queue's own connection would wait
  // for it), and any failure told as one clear ToolError.
  private async shared<T>(call: () => Promise<T>): Promise<T> {
    try {
      if (this.redis.status !== 'ready')
        throw new Error(`connection ${this.redis.status}${this.redis.lastError ? ` (${this.redis.lastError})` : ''}`);
      return await call();
    } catch (err) {
      throw unreachable(this.opts.url, err);
    }
  }

  // Tasks waiting in the shared queue (for the queue-full check).
  waiting = (): Promise<number> => this.shared(() => this.queue.waiting());

  // Runs up to `concurrency` queued tasks at once on this machine (see JobQueue; `run` throws HandBack to give a job
  // back).
  serve(concurrency: number, run: (id: string, info: JobInfo) => Promise<void>): void {
    this.queue.serve(concurrency, run);
  }

  // A server that shuts down takes no more jobs (before it stops its tasks, so their slots take nothing new).
  stopTaking(): void {
    this.queue.stopTaking();
  }

  // Takes a queued task for this server: true for exactly one claimer, never for a task killed while it waited. A
  // claim whose reply was lost (the connection dropped) is read back: it may have been this server's.
  async claim(record: TaskRecord): Promise<boolean> {
    try {
      return await this.records.put(record, ['queued']);
    } catch {
      const now = await this.records.read(record.id).catch(() => undefined);
      return now?.state === 'running' && now.owner.serverId === this.opts.serverId;
    }
  }

  // The owner's write of its task; never throws (see OwnerWrites).
  publish(record: TaskRecord): void {
    this.writes.publish(record);
  }

  // Whether an owner write of this task waits to reach Redis.
  pending = (id: string): boolean => this.writes.has(id);

  // One rendered event of a task this server runs; dropped while Redis is away (the full log is on this disk).
  event(id: string, seq: number, text: string): void {
    void this.records.appendEvent(id, seq, text).catch(() => {});
  }

  // A task's record from Redis, kept in the local cache; a ToolError when Redis is away.
  read = (id: string): Promise<TaskRecord | undefined> => this.shared(() => this.remote.refresh(id));

  // The newest records, newest first, `wanted` ones only, reading at most `scan` of them.
  list = (wanted: (r: TaskRecord) => boolean, limit: number, scan: number): Promise<TaskRecord[]> =>
    this.shared(() => this.records.newest(wanted, limit, scan));

  // Event lines of a task another server runs, from its capped stream.
  events = (id: string, opts: { from?: number; limit: number }): Promise<EventLine[]> =>
    this.shared(() => this.records.readEvents(id, opts));

  // What the redis backend does for the cluster: kills and answers for tasks it runs (sent by any server), claimed
  // tasks to check for a dead owner, its own checks every sweep, and its writes refused because a task is no longer its
  // own.
  attach(h: ClusterHandlers): void {
    this.handlers = h;
  }

  // The ids among these with a kill request waiting (a kill request stays a minute).
  async killRequests(ids: string[]): Promise<string[]> {
    if (!ids.length || this.redis.status !== 'ready') return [];
    const found = await this.redis
      .mget(ids.map((id) => `${this.opts.prefix}:killreq:${id}`))
      .catch(() => [] as Array<string | null>);
    return ids.filter((_, i) => found[i]);
  }

  // Asks whichever server runs a task to kill it; the request stays a minute for a server that claims it just now.
  async requestKill(id: string, by: string): Promise<void> {
    await this.shared(async () => {
      await this.redis.set(`${this.opts.prefix}:killreq:${id}`, by, 'PX', 60_000);
      await this.redis.publish(`${this.opts.prefix}:control`, JSON.stringify({ kind: 'kill', id, by }));
    });
  }

  // Gives the answer to a question of a task another server runs.
  async sendAnswer(id: string, requestId: string, answer: InputAnswer): Promise<void> {
    await this.shared(() =>
      this.redis.publish(`${this.opts.prefix}:control`, JSON.stringify({ kind: 'answer', id, requestId, answer })),
    );
  }

  // Ends a task that still waits in the queue (killed before any worker took it); false when a worker was first.
  endQueued(record: TaskRecord, end: EndInfo): Promise<boolean> {
    const ended: TaskRecord = { ...record, state: 'killed', end, endedAt: Date.now(), updatedAt: Date.now() };
    return this.shared(async () => {
      const done = await this.records.put(ended, ['queued']);
      if (done) await this.queue.remove(record.id);
      return done;
    });
  }

  // Whether the server that claimed a task is gone (its heartbeat expired while this server watched Redis).
  async ownerDead(record: TaskRecord): Promise<boolean> {
    if (!this.liveness.canJudge) return false;
    try {
      return !(await this.liveness.alive(record.owner.serverId));
    } catch {
      return false;
    }
  }

  // Writes a lost record unless the task ended (or was taken back by its owner) meanwhile.
  markLost(lost: TaskRecord): Promise<boolean> {
    return this.records.put(lost, ['running', 'needs_input']);
  }

  private down(message: string): void {
    this.liveness.disconnected();
    this.opts.log.warn(
      { redis: this.url, err: message },
      'cluster: Redis is unreachable; running tasks go on, their records are written when it is back',
    );
  }

  // Back (or first) up: pending owner writes go out; a Redis that came back empty gets this server's records again.
  private async up(): Promise<void> {
    this.liveness.connected();
    await this.upkeep.checkEpoch((id) => this.writes.has(id)).catch(() => {});
    if (this.everReady) this.opts.log.info({ redis: this.url, pending: this.writes.size }, 'cluster: Redis is back');
    this.everReady = true;
    this.writes.retry();
  }

  // Stops taking jobs (tasks running here are stopped by the task service first), then leaves.
  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.queue.close();
    await this.writes.drain(1000);
    await this.liveness.stop();
    await Promise.allSettled([this.sub.quit(), this.redis.quit()]);
  }
}
