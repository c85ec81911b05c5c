import { hostname } from 'node:os';
import type { FollowedTask, ResolvedRun, TaskHost } from '../backend.js';
import type { InputAnswer } from '../input-requests.js';
import { LocalBackend, MAX_SCANNED, type LocalOptions } from '../local/local-backend.js';
import { asLost, cleanUpLost, ownerAlive } from '../local/recovery.js';
import { isFinal, type EndInfo, type TaskRecord } from '../types.js';
import type { EventReader } from '../view.js';
import type { Cluster } from './cluster.js';
import { clusterDuties } from './cluster-duties.js';
import { runJob, type JobLimits } from './run-job.js';

// What the Redis backend works with besides the local one's options.
export interface RedisOptions extends Omit<LocalOptions, 'mirror'> {
  cluster: Cluster;
  jobs: JobLimits;
  maxQueue: number;
  /** The depth of this server (inside a claude that claude-tiers started, > 0): it travels with the task. */
  depth: number;
  /** Throws when this server may not start tasks at its depth (the recursion guard holds through the queue). */
  guardDepth(): void;
}

// Tasks shared by several servers through Redis: one queue (BullMQ's), one store of records and capped event
// streams, kills and answers by pub/sub. What a server runs is also kept on its own disk (the local backend beneath:
// event logs, records, recovery at start-up), and its writes reach Redis through its owner writes.
export class RedisBackend extends LocalBackend {
  override readonly name = 'cluster';
  private readonly cluster: Cluster;

  constructor(private readonly r: RedisOptions) {
    super({ ...r, mirror: (rec) => r.cluster.publish(rec) });
    this.cluster = r.cluster;
  }

  override async open(host: TaskHost): Promise<void> {
    await super.open(host);
    const cluster = this.cluster;
    cluster.attach(
      clusterDuties({
        live: (id) => host.live(id),
        liveIds: () => host.liveIds(),
        kill: (id, by) => host.kill(id, by),
        check: async (id) => host.live(id) ?? this.read(id),
        killRequests: (ids) => cluster.killRequests(ids),
      }),
    );
  }

  // Checks the request here, then puts the task in the shared queue for whichever worker is free.
  override async create(record: TaskRecord, run: ResolvedRun, accepted: () => void): Promise<void> {
    this.r.guardDepth();
    if (this.r.depth > 0) record.request.depth = this.r.depth;
    // The shared queue's fair share per principal is checked as the task is queued (queue-shares.ts).
    // Only images travel as content: a plain prompt is the record's own.
    await this.cluster.enqueue(record, typeof run.content === 'string' ? undefined : run.content);
    accepted();
  }

  // This server's worker takes tasks from the shared queue, up to `concurrency` at once.
  override serve(concurrency: number): void {
    this.cluster.serve(concurrency, (id, info) => runJob(this.cluster, this.host, this.r.jobs, id, info));
  }

  override peek = (id: string): TaskRecord | undefined => this.cluster.remote.peek(id) ?? this.disk.readRecord(id);

  // From Redis (this disk's copy when Redis has none); a claimed task whose server is gone is declared lost.
  override async read(id: string): Promise<TaskRecord | undefined> {
    const record = (await this.cluster.read(id)) ?? this.disk.readRecord(id);
    if (!record || isFinal(record.state)) return record;
    if (record.state === 'queued' || !(await this.gone(record))) return record;
    return this.loseOnce(record, () => this.loseShared(record));
  }

  // A claimed task's server is gone: its heartbeat expired (and, on this machine, its process is gone too), or it is
  // this server, which does not run the task (a claim whose run never started).
  private async gone(record: TaskRecord): Promise<boolean> {
    const { serverId } = this.host.owner;
    if (record.owner.serverId === serverId)
      return !this.host.live(record.id) && !this.cluster.pending(record.id) && Date.now() - record.updatedAt > 5000;
    // On this machine a live owner process is not dead (another pid than ours: a restarted server may reuse its pid).
    if (record.owner.host === hostname() && record.owner.pid !== process.pid && ownerAlive(record)) return false;
    return this.cluster.ownerDead(record);
  }

  // The "lost" record is written first (one server wins); only the winner kills what is left on this machine and
  // commits the task's worktree.
  private async loseShared(record: TaskRecord): Promise<TaskRecord> {
    const { cluster } = this;
    // This server's own task, finished on its disk, whose last write never reached Redis: that write goes now.
    const disk = record.owner.serverId === this.host.owner.serverId ? this.disk.readRecord(record.id) : undefined;
    if (disk && isFinal(disk.state)) {
      cluster.publish(disk);
      return disk;
    }
    const lost = asLost(structuredClone(record), true);
    if (!(await cluster.markLost(lost).catch(() => false))) return (await cluster.read(record.id)) ?? record;
    this.opts.log.warn({ task: record.id, owner: record.owner }, 'task lost: its server is gone');
    // Only the server that won the compare-and-set tells the webhook.
    this.host.lost(lost);
    if (record.owner.host === hostname()) {
      await cleanUpLost(lost, this.opts.log, this.opts.locks);
      await cluster.records.put(lost, ['lost']).catch(() => false);
    }
    return (await cluster.read(record.id)) ?? lost;
  }

  override unreadable(id: string): string | undefined {
    return this.cluster.records.unreadableWhy(id);
  }

  override list(wanted: (r: TaskRecord) => boolean, limit: number): Promise<TaskRecord[]> {
    return this.cluster.list(wanted, limit, MAX_SCANNED);
  }

  // Another server's task: its capped stream in Redis (a task of this server: its log on this disk).
  override events(record: Readonly<TaskRecord>): EventReader {
    if (this.disk.hasTask(record.id)) return super.events(record);
    return async (id, from, limit) => {
      const lines = await this.cluster.events(id, { from, limit });
      const last = lines.length ? lines[lines.length - 1]!.seq : undefined;
      // The stream holds only events with a line of text: a read that reached its end has seen every event so far.
      return { lines, last: lines.length < limit ? Math.max(last ?? 0, record.stats.events) : last };
    };
  }

  override eventSink(id: string): (seq: number, text: string) => void {
    return (seq, text) => this.cluster.event(id, seq, text);
  }

  override watch(id: string, listener: () => void): () => void {
    return this.cluster.remote.watch(id, listener);
  }

  override watchAll(listener: (id: string) => void): () => void {
    return this.cluster.remote.watchAll(listener);
  }

  override follower(id: string): FollowedTask | undefined {
    return this.cluster.remote.follower(id);
  }

  // A task still in the queue ends there; one a server runs is killed by it (pub/sub, and a request kept a minute).
  override async requestKill(record: TaskRecord, end: EndInfo & { by: string }): Promise<void> {
    if (!(record.state === 'queued' && (await this.cluster.endQueued(record, end))))
      await this.cluster.requestKill(record.id, end.by);
  }

  override async sendAnswer(record: TaskRecord, requestId: string, answer: InputAnswer): Promise<void> {
    await this.cluster.sendAnswer(record.id, requestId, answer);
  }

  // Slots freed by the stops that follow must not take the next job of the shared queue.
  override stopTaking(): void {
    super.stopTaking();
    this.cluster.stopTaking();
  }

  override async close(flushMs: number): Promise<void> {
    await super.close(flushMs);
    await this.cluster.close();
  }
}
