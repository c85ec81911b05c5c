import type { Redis } from 'ioredis';
import type { Logger } from '../../log.js';
import type { TaskRecord } from '../types.js';
import type { JobQueue } from './job-queue.js';
import type { Liveness } from './liveness.js';
import type { SharedRecords } from './shared-records.js';

const RECONCILE_EVERY = 5;
const STRANDED_AFTER_MS = 10_000;

// What the periodic upkeep of one server works on.
export interface UpkeepParts {
  redis: Redis;
  prefix: string;
  records: SharedRecords;
  queue: JobQueue;
  liveness: Liveness;
  log: Logger;
  /** Records this server wrote on its own disk, newest first. */
  ownRecords: () => Iterable<TaskRecord>;
  /** A claimed task to check (its owner may be dead, or no longer run it). */
  suspect: (id: string) => void;
  /** Once a sweep: this server's own periodic checks (kill requests that pub/sub may have missed). */
  tick: () => void;
}

// The cluster's upkeep, on every server: tasks of dead servers, queued tasks whose job is gone, old tasks, and a
// Redis that came back without its data.
export class Upkeep {
  private sweeps = 0;
  private epoch: string | undefined;

  constructor(private readonly p: UpkeepParts) {}

  // Every couple of seconds: claimed tasks are checked (only once this server can tell a dead server from a Redis
  // restart), kill requests are looked at; now and then queued tasks whose job left the queue get a new one.
  async sweep(): Promise<void> {
    this.p.tick();
    if (!this.p.liveness.canJudge) return;
    for (const id of await this.p.records.claimedIds().catch(() => [] as string[])) this.p.suspect(id);
    if (++this.sweeps % RECONCILE_EVERY === 0)
      await this.reconcile().catch((err: unknown) =>
        this.p.log.warn({ err: (err as Error).message }, 'cluster: reconcile failed'),
      );
  }

  // A queued task with no job (its add failed, or the job ended without a claim) gets a job again; one server at a
  // time does this, and the claim still makes it run once.
  private async reconcile(): Promise<void> {
    const lock = await this.p.redis.set(`${this.p.prefix}:reconcile`, '1', 'PX', 30_000, 'NX');
    if (lock !== 'OK') return;
    // At most 200 a round: a long backlog is worked through over several rounds, each within the lock's time.
    const ids = (await this.p.records.queuedIds()).slice(0, 200);
    const now = Date.now();
    for (const [i, rec] of (await this.p.records.readMany(ids)).entries()) {
      if (!rec || rec.state !== 'queued' || now - rec.createdAt < STRANDED_AFTER_MS) continue;
      if (await this.p.queue.hasJob(ids[i]!)) continue;
      await this.p.queue.readd(ids[i]!);
      this.p.log.warn({ task: ids[i] }, 'cluster: a queued task had no job in the queue; it was queued again');
    }
  }

  async prune(limits: { pruneMaxAgeDays: number; pruneMaxTasks: number }): Promise<void> {
    const n = await this.p.records
      .prune({ maxAgeDays: limits.pruneMaxAgeDays, maxTasks: limits.pruneMaxTasks })
      .catch(() => 0);
    if (n) this.p.log.info({ removed: n }, 'cluster: pruned old tasks');
  }

  // On every (re)connect: a Redis whose epoch is not the one this server saw last lost its data (or is another
  // Redis); this server's finished tasks are written to it again from its disk.
  async checkEpoch(skip: (id: string) => boolean): Promise<void> {
    const key = `${this.p.prefix}:epoch`;
    await this.p.redis.set(key, `${Date.now()}-${Math.random().toString(36).slice(2)}`, 'NX');
    const now = (await this.p.redis.get(key)) ?? undefined;
    const before = this.epoch;
    this.epoch = now;
    if (before === undefined || before === now) return;
    let n = 0;
    for (const rec of this.p.ownRecords())
      if (!skip(rec.id) && (await this.p.records.put(rec, ['none']).catch(() => false))) n++;
    this.p.log.warn(
      { republished: n },
      "cluster: Redis came back without its data; this server's finished tasks were written again",
    );
  }
}
