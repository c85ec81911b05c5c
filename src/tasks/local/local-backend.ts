import type { Limits } from '../../config/schema.js';
import { ToolError } from '../../errors.js';
import type { RepoLocks } from '../../isolation/repo-locks.js';
import type { Logger } from '../../log.js';
import type { FollowedTask, ResolvedRun, TaskBackend, TaskHost } from '../backend.js';
import type { InputAnswer } from '../input-requests.js';
import type { LiveTask } from '../live-task.js';
import { RecordWriter } from '../record-writer.js';
import { TaskStore } from '../store.js';
import { isFinal, type EndInfo, type TaskRecord } from '../types.js';
import { diskEvents, type EventReader } from '../view.js';
import { requestAnswer, requestKill, watchOwnerRequests } from './kill-requests.js';
import { markLost, ownerAlive, recoverOrphans, schedulePrune } from './recovery.js';

// A listing reads at most this many records: a principal with few tasks must not make every call read the whole store.
export const MAX_SCANNED = 2000;

// What the local backend works with.
export interface LocalOptions {
  stateDir: string;
  limits: Pick<Limits, 'pruneMaxAgeDays' | 'pruneMaxTasks'>;
  log: Logger;
  locks: RepoLocks;
  /** Where each saved snapshot also goes (the shared store, when a cluster builds on this backend); must not throw. */
  mirror?: (record: TaskRecord) => void;
}

// Tasks in a state dir on this machine: every task runs on the server that was asked; other processes on the same
// state dir (the CLI, another server) reach a task's owner through request files, and a task whose server died is
// declared lost by whoever reads it next (or at start-up).
export class LocalBackend implements TaskBackend {
  readonly name: string = 'local';
  readonly disk: TaskStore;
  private readonly writer: RecordWriter;
  private readonly losing = new Map<string, Promise<TaskRecord>>();
  private readonly reader: EventReader;
  private stopRequests: () => void = () => {};
  protected host!: TaskHost;

  constructor(protected readonly opts: LocalOptions) {
    this.disk = new TaskStore(opts.stateDir);
    this.reader = diskEvents(this.disk);
    const failed = (task: LiveTask, err: unknown) => {
      const message = (err as Error)?.message ?? String(err);
      if (task.noteStoreError(message))
        opts.log.warn({ task: task.id, err: message }, 'cannot write task state to disk; the task goes on in memory');
    };
    // A task declared lost (its owner looked dead: another process on this state dir judged so) stays lost.
    const guard = {
      allowed: (rec: TaskRecord) => this.disk.readRecord(rec.id)?.state !== 'lost',
      refused: (task: LiveTask) =>
        void task.stop({
          reason: 'lost',
          message: 'stopped: another process declared this task lost (its server looked dead); partial output kept',
        }),
    };
    this.writer = new RecordWriter(this.disk, failed, opts.mirror, guard);
  }

  // Declares tasks of dead servers lost, prunes old tasks in the background, takes kill and answer requests.
  async open(host: TaskHost): Promise<void> {
    this.host = host;
    const { log, locks, limits, stateDir } = this.opts;
    await recoverOrphans(this.disk, log, locks, (rec) => host.lost(rec));
    schedulePrune(this.disk, limits, (id) => !!host.live(id), log);
    this.stopRequests = watchOwnerRequests(
      stateDir,
      (id) => host.live(id),
      (id, by) => void host.kill(id, by),
    );
  }

  // Locally a task runs on the server that was asked, at once.
  async create(record: TaskRecord, run: ResolvedRun, accepted: () => void): Promise<void> {
    this.host.runHere(record, run, accepted);
  }

  serve(_concurrency: number): void {}

  peek = (id: string): TaskRecord | undefined => this.disk.readRecord(id);

  async read(id: string, known = this.peek(id)): Promise<TaskRecord | undefined> {
    if (!known || isFinal(known.state) || ownerAlive(known)) return known;
    return this.loseOnce(known);
  }

  // The one place a task of this state dir is declared lost, once per task however many callers ask.
  protected loseOnce(record: TaskRecord, lose = () => this.markLost(record)): Promise<TaskRecord> {
    const losing = this.losing.get(record.id) ?? lose().finally(() => this.losing.delete(record.id));
    this.losing.set(record.id, losing);
    return losing;
  }

  private async markLost(record: TaskRecord): Promise<TaskRecord> {
    const lost = await markLost(this.disk, record, this.opts.log, this.opts.locks);
    this.host.lost(lost);
    return lost;
  }

  unreadable(_id: string): string | undefined {
    return undefined;
  }

  async list(wanted: (r: TaskRecord) => boolean, limit: number): Promise<TaskRecord[]> {
    const out: TaskRecord[] = [];
    for (const id of this.disk.listIds().slice(0, MAX_SCANNED)) {
      const rec = this.host.live(id)?.record ?? this.peek(id);
      if (rec && wanted(rec)) out.push(rec);
      if (out.length >= limit) break;
    }
    return out;
  }

  events(_record: Readonly<TaskRecord>): EventReader {
    return this.reader;
  }

  eventSink(_id: string): ((seq: number, text: string) => void) | undefined {
    return undefined;
  }

  save(task: LiveTask, now = false): Promise<void> {
    return this.writer.save(task, now);
  }

  // Another process's task on this disk has no change feed: callers poll it.
  watch(_id: string, _listener: () => void): (() => void) | undefined {
    return undefined;
  }

  watchAll(_listener: (id: string) => void): () => void {
    return () => {};
  }

  follower(_id: string): FollowedTask | undefined {
    return undefined;
  }

  // The owner is another process on this state dir: a kill request file it takes within a second. A strict kill
  // (kill_task) refuses instead, as this server cannot stop the task itself.
  async requestKill(record: TaskRecord, end: EndInfo & { by: string }, strict: boolean): Promise<void> {
    if (strict)
      throw new ToolError(
        `task ${record.id} belongs to another claude-tiers server (pid ${record.owner.pid}) that is still ` +
          `running; kill it from that server's client`,
      );
    await requestKill(this.opts.stateDir, record.id, end.by);
  }

  // An answer request file, taken by the owner within a second like a kill request.
  sendAnswer(record: TaskRecord, requestId: string, answer: InputAnswer): Promise<void> {
    return requestAnswer(this.opts.stateDir, record.id, requestId, answer);
  }

  stopTaking(): void {
    this.stopRequests();
  }

  async close(flushMs: number): Promise<void> {
    await this.writer.flush(flushMs);
  }
}
