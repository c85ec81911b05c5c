import { ToolError } from '../errors.js';

// Thrown into a queued task that was stopped before it got a slot.
export class LeftQueue extends Error {
  override name = 'LeftQueue';
}

interface Waiting {
  principal: string;
  grant: (release: () => void) => void;
  reject: (err: Error) => void;
}

// What one principal has of the server now, and its fair share of it.
export interface PrincipalCounts {
  running: number;
  queued: number;
  /** Running slots it gets before a principal with fewer running waits behind it. */
  runningShare: number;
  /** Queue places it may hold (limits.perPrincipalQueue, else maxQueue shared by the active principals). */
  queueShare: number;
}

// What the scheduler needs of the limits.
export interface SchedulerLimits {
  maxRunning: number;
  maxQueue: number;
  /** Queue places one principal may hold; default ceil(maxQueue / active principals). */
  perPrincipalQueue?: number;
}

const DEFAULT_PRINCIPAL = 'local';

// Running slots and a queue, shared fairly between principals (HTTP tokens): a free slot goes to the waiting principal
// with the fewest tasks running (ties: the one served longest ago, so equals take turns), in arrival order within a
// principal; a principal may queue up to its share, and one under its share gets a place even in a full queue (never
// beyond twice maxQueue). A stopped task leaves the queue at once. Nothing running is ever preempted.
export class Scheduler {
  private running = 0;
  private peak = 0;
  private closed = false;
  private readonly queue: Waiting[] = [];
  private readonly runningBy = new Map<string, number>();
  /** When each principal last got a slot (a counter, not a clock): the tie-break of the round robin. */
  private readonly servedAt = new Map<string, number>();
  private grants = 0;

  constructor(private readonly limits: SchedulerLimits) {}

  get runningCount(): number {
    return this.running;
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  get peakRunning(): number {
    return this.peak;
  }

  // Principals with a task running or queued, and `also` (the one asking) if given.
  private active(also?: string): number {
    const names = new Set<string>(this.runningBy.keys());
    for (const w of this.queue) names.add(w.principal);
    if (also !== undefined) names.add(also);
    return Math.max(1, names.size);
  }

  // One principal's running and queued tasks and its fair shares, counting it as active.
  countsOf(principal: string): PrincipalCounts {
    const active = this.active(principal);
    const { maxQueue } = this.limits;
    return {
      running: this.runningBy.get(principal) ?? 0,
      queued: this.queue.filter((w) => w.principal === principal).length,
      runningShare: Math.max(1, Math.ceil(this.limits.maxRunning / active)),
      queueShare: Math.min(maxQueue, this.limits.perPrincipalQueue ?? Math.max(1, Math.ceil(maxQueue / active))),
    };
  }

  // Refuses a new task of `principal` that could neither run now nor take a queue place of its share, with its own
  // numbers and what to do about it.
  checkRoom(principal = DEFAULT_PRINCIPAL): void {
    if (this.running < this.limits.maxRunning && this.queue.length === 0) return;
    const mine = this.countsOf(principal);
    const { maxRunning, maxQueue, perPrincipalQueue } = this.limits;
    const who = principal.startsWith('token:')
      ? `token "${principal.slice('token:'.length)}"`
      : principal === DEFAULT_PRINCIPAL
        ? 'the local user'
        : principal;
    const retry =
      'Wait for one of its tasks to finish (task_status with task_ids and wait_for "any") or kill one, then retry.';
    const perPrincipal = perPrincipalQueue !== undefined ? `, perPrincipalQueue ${perPrincipalQueue}` : '';
    const limits = `limits: maxRunning ${maxRunning}, maxQueue ${maxQueue}${perPrincipal}`;
    if (mine.queued >= mine.queueShare) {
      const why = perPrincipal
        ? 'limits.perPrincipalQueue'
        : `maxQueue shared by ${this.active(principal)} active principals`;
      throw new ToolError(
        `queue full: ${mine.running} tasks running and ${mine.queued} queued for ${who}, ` +
          `its whole share of the queue (${mine.queueShare} places: ${why}); ` +
          `the server has ${this.running} running and ${this.queue.length} queued (${limits}). ${retry}`,
      );
    }
    if (this.queue.length >= 2 * maxQueue) {
      throw new ToolError(
        `queue full: ${this.running} tasks running and ${this.queue.length} queued, ` +
          `twice maxQueue while principals over their share drain (${limits}); ` +
          `${who} has ${mine.running} running and ${mine.queued} queued. ${retry}`,
      );
    }
  }

  // A running slot for a task of `principal`; resolves to its release (call it once, in a finally); rejects when
  // `signal` fires first.
  acquire(signal: AbortSignal, principal = DEFAULT_PRINCIPAL): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted || this.closed) return reject(new LeftQueue(String(signal.reason ?? 'closed')));
      const entry: Waiting = {
        principal,
        grant: (release) => {
          signal.removeEventListener('abort', onAbort);
          resolve(release);
        },
        reject,
      };
      const onAbort = () => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        reject(new LeftQueue(String(signal.reason ?? 'stopped')));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
      this.pump();
    });
  }

  // No more slots are handed out (server shutdown); waiting tasks are told to leave.
  close(): void {
    this.closed = true;
    for (const w of this.queue.splice(0)) w.reject(new LeftQueue('the server is shutting down'));
  }

  // The next task to run: the first waiting task of the principal with the fewest running, served longest ago.
  private next(): Waiting {
    let best = 0;
    const rank = (w: Waiting): [number, number] => [
      this.runningBy.get(w.principal) ?? 0,
      this.servedAt.get(w.principal) ?? -1,
    ];
    for (let i = 1; i < this.queue.length; i++) {
      const [r, s] = rank(this.queue[i]!);
      const [br, bs] = rank(this.queue[best]!);
      if (r < br || (r === br && s < bs)) best = i;
    }
    return this.queue.splice(best, 1)[0]!;
  }

  private pump(): void {
    while (!this.closed && this.running < this.limits.maxRunning && this.queue.length) {
      const next = this.next();
      const { principal } = next;
      this.running++;
      this.runningBy.set(principal, (this.runningBy.get(principal) ?? 0) + 1);
      this.servedAt.set(principal, ++this.grants);
      this.peak = Math.max(this.peak, this.running);
      let released = false;
      next.grant(() => {
        if (released) return;
        released = true;
        this.running--;
        const left = (this.runningBy.get(principal) ?? 1) - 1;
        if (left > 0) this.runningBy.set(principal, left);
        else this.runningBy.delete(principal);
        this.pump();
      });
    }
  }
}
