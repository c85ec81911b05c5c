import { ToolError } from '../errors.js';

// Thrown into a queued task that was stopped before it got a slot.
export class LeftQueue extends Error {
  override name = 'LeftQueue';
}

interface Waiting {
  grant: (release: () => void) => void;
  reject: (err: Error) => void;
}

// Running slots and a FIFO queue: a task runs when a slot is free; a stopped task leaves the queue at once.
export class Scheduler {
  private running = 0;
  private peak = 0;
  private closed = false;
  private readonly queue: Waiting[] = [];

  constructor(private readonly limits: { maxRunning: number; maxQueue: number }) {}

  get runningCount(): number {
    return this.running;
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  get peakRunning(): number {
    return this.peak;
  }

  // Refuses a new task that could neither run nor wait, with what to do about it.
  checkRoom(): void {
    if (this.running < this.limits.maxRunning || this.queue.length < this.limits.maxQueue) return;
    throw new ToolError(
      `queue full: ${this.running} tasks running and ${this.queue.length} queued (limits: maxRunning ${this.limits.maxRunning}, maxQueue ${this.limits.maxQueue}). ` +
        'Wait for a task to finish (task_status with task_ids and wait_for "any") or kill one, then retry.',
    );
  }

  // A running slot, in arrival order; resolves to its release (call it once, in a finally); rejects when `signal` fires first.
  acquire(signal: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted || this.closed) return reject(new LeftQueue(String(signal.reason ?? 'closed')));
      const entry: Waiting = {
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

  private pump(): void {
    while (!this.closed && this.running < this.limits.maxRunning && this.queue.length) {
      const next = this.queue.shift()!;
      this.running++;
      this.peak = Math.max(this.peak, this.running);
      let released = false;
      next.grant(() => {
        if (released) return;
        released = true;
        this.running--;
        this.pump();
      });
    }
  }
}
