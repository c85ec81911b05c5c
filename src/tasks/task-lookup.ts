import { hostname } from 'node:os';
import type { Cluster } from '../cluster/cluster.js';
import { ToolError } from '../errors.js';
import type { RepoLocks } from '../isolation/repo-locks.js';
import type { Logger } from '../log.js';
import type { LiveTask } from './live-task.js';
import { asLost, cleanUpLost, markLost, ownerAlive } from './recovery.js';
import type { TaskStore } from './store.js';
import { isFinal, visibleTo, type TaskRecord, type TaskState, type Viewer } from './types.js';
import { diskEvents, type EventReader } from './view.js';

// A listing reads at most this many records: a principal with few tasks must not make every call read the whole store.
const MAX_SCANNED = 2000;

// What a lookup reads: this server's live tasks, its state dir and, in a cluster, the shared store.
export interface LookupSources {
  store: TaskStore;
  live: ReadonlyMap<string, LiveTask>;
  cluster?: Cluster;
  log: Logger;
  locks: RepoLocks;
  serverId: string;
  /** Told once of each task this lookup declared lost (the webhook's "lost"). */
  onLost?: (record: TaskRecord) => void;
}

// The read side of the registry: a task's record from memory, the shared store or the disk; listings; and the
// one place where a task whose server died is declared lost (once per task, however many callers ask).
export class TaskLookup {
  private readonly losing = new Map<string, Promise<TaskRecord | undefined>>();
  private readonly disk: EventReader;

  constructor(private readonly src: LookupSources) {
    this.disk = diskEvents(src.store);
  }

  // A task's record as it stands, without side effects or I/O beyond the local disk.
  peek = (id: string): TaskRecord | undefined => (this.src.live.get(id)?.record as TaskRecord | undefined) ?? this.src.cluster?.remote.peek(id) ?? this.src.store.readRecord(id);

  // A task's record read again (from Redis in a cluster); an unfinished task whose server died is declared lost on the way.
  async record(id: string, known = this.peek(id)): Promise<TaskRecord | undefined> {
    if (this.src.live.has(id)) return known;
    const { cluster } = this.src;
    const record = cluster ? ((await cluster.read(id)) ?? this.src.store.readRecord(id)) : known;
    if (!record || isFinal(record.state)) return record;
    if (cluster ? record.state === 'queued' || !(await this.goneInCluster(record)) : ownerAlive(record)) return record;
    const losing = this.losing.get(id) ?? this.loseOnce(record).finally(() => this.losing.delete(id));
    this.losing.set(id, losing);
    return losing;
  }

  // A claimed task's server is gone: its heartbeat expired (and, on this machine, its process is gone too), or it is
  // this server, which does not run the task (a claim whose run never started).
  private async goneInCluster(record: TaskRecord): Promise<boolean> {
    if (record.owner.serverId === this.src.serverId) return !this.src.live.has(record.id) && !this.src.cluster!.pending(record.id) && Date.now() - record.updatedAt > 5000;
    // On this machine a live owner process is not dead (another pid than ours: a restarted server may reuse its pid).
    if (record.owner.host === hostname() && record.owner.pid !== process.pid && ownerAlive(record)) return false;
    return this.src.cluster!.ownerDead(record);
  }

  // Cluster: the "lost" record is written first (one server wins); only the winner kills what is left on this
  // machine and commits the task's worktree.
  private async loseOnce(record: TaskRecord): Promise<TaskRecord | undefined> {
    const { cluster, store, log, locks } = this.src;
    if (!cluster) {
      const lost = await markLost(store, record, log, locks);
      this.src.onLost?.(lost);
      return lost;
    }
    // This server's own task, finished on its disk, whose last write never reached Redis: that write goes now.
    const disk = record.owner.serverId === this.src.serverId ? store.readRecord(record.id) : undefined;
    if (disk && isFinal(disk.state)) {
      cluster.publish(disk);
      return disk;
    }
    const lost = asLost(structuredClone(record), true);
    if (!(await cluster.markLost(lost).catch(() => false))) return cluster.read(record.id);
    log.warn({ task: record.id, owner: record.owner }, 'task lost: its server is gone');
    // Only the server that won the compare-and-set tells the webhook.
    this.src.onLost?.(lost);
    if (record.owner.host === hostname()) {
      await cleanUpLost(lost, log, locks);
      await cluster.records.put(lost, ['lost']).catch(() => false);
    }
    return cluster.read(record.id);
  }

  // A task's record when the viewer may see it; another principal's task is as unknown as a missing one.
  visible = (id: string, viewer: Viewer | undefined, rec = this.peek(id)): TaskRecord | undefined => (rec && visibleTo(rec, viewer) ? rec : undefined);

  // A task's record, fresh, when the viewer may see it, else a ToolError that names the id and the caller's recent tasks.
  async get(id: string, viewer?: Viewer): Promise<TaskRecord> {
    const fresh = this.src.cluster && !this.src.live.has(id) ? await this.record(id) : undefined;
    const seen = this.visible(id, viewer, fresh ?? this.peek(id));
    const rec = seen && (fresh ?? (await this.record(id, seen)));
    const unreadable = !rec ? this.src.cluster?.records.unreadableWhy(id) : undefined;
    if (unreadable) {
      const what = `an unreadable record in the shared store (${unreadable})`;
      throw new ToolError(`task_id: ${id} is ${what}; listings skip it`);
    }
    if (!rec) throw new ToolError(`task_id: no task ${id}; ${await this.recentIdsHint(viewer)}`);
    return rec;
  }

  // Newest first: live tasks of this server plus the shared store (a cluster) or the state dir.
  async list(options: { state?: TaskState[]; limit?: number; viewer?: Viewer } = {}): Promise<TaskRecord[]> {
    const limit = options.limit ?? 20;
    const wanted = (r: TaskRecord) => (!options.state || options.state.includes(r.state)) && visibleTo(r, options.viewer);
    const { cluster, store, live } = this.src;
    const out: TaskRecord[] = cluster ? await cluster.list(wanted, limit, MAX_SCANNED) : [];
    if (!cluster) {
      for (const id of store.listIds().slice(0, MAX_SCANNED)) {
        const rec = this.peek(id);
        if (rec && wanted(rec)) out.push(rec);
        if (out.length >= limit) break;
      }
    }
    for (const t of live.values()) {
      const i = out.findIndex((r) => r.id === t.id);
      if (i >= 0) out[i] = t.record as TaskRecord;
      else if (wanted(t.record as TaskRecord)) out.push(t.record as TaskRecord);
    }
    return out.sort((a, b) => (a.id < b.id ? 1 : -1)).slice(0, limit);
  }

  async recentIdsHint(viewer?: Viewer): Promise<string> {
    const ids = (await this.list({ limit: 5, viewer }).catch(() => [])).map((r) => `${r.id} (${r.state})`);
    return ids.length ? `recent tasks: ${ids.join(', ')}` : 'there are no tasks yet; start one with deep_task';
  }

  // Where a task's events are read when it is not live here: the shared stream for another server's task.
  events(record: Readonly<TaskRecord>): EventReader {
    const { cluster, store } = this.src;
    if (!cluster || store.hasTask(record.id)) return this.disk;
    return async (id, from, limit) => {
      const lines = await cluster.events(id, { from, limit });
      const last = lines.length ? lines[lines.length - 1]!.seq : undefined;
      // The stream holds only events with a line of text: a read that reached its end has seen every event so far.
      return { lines, last: lines.length < limit ? Math.max(last ?? 0, record.stats.events) : last };
    };
  }
}
