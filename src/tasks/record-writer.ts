import type { LiveTask } from './live-task.js';
import type { TaskStore } from './store.js';
import type { TaskRecord } from './types.js';

const SAVE_THROTTLE_MS = 250;

// Persists task records: at once (awaited, for state changes) or coalesced within 250 ms; writes of one task never
// overlap.
export class RecordWriter {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly store: TaskStore,
    private readonly failed: (task: LiveTask, err: unknown) => void,
    /** Where each saved snapshot also goes (the shared store, in a cluster); must not throw. */
    private readonly mirror?: (record: TaskRecord) => void,
    /** Whether the owner may still write its task (false: another process declared it lost); refused writes stop it. */
    private readonly guard?: { allowed(record: TaskRecord): boolean; refused(task: LiveTask): void },
  ) {}

  save(task: LiveTask, now = false): Promise<void> {
    const id = task.id;
    const pending = this.timers.get(id);
    if (!now) {
      if (!pending)
        this.timers.set(
          id,
          setTimeout(() => void this.save(task, true), SAVE_THROTTLE_MS),
        );
      return Promise.resolve();
    }
    if (pending) clearTimeout(pending);
    this.timers.delete(id);
    const snapshot = structuredClone(task.record) as TaskRecord;
    this.mirror?.(snapshot);
    const write = () => {
      if (!this.guard || this.guard.allowed(snapshot)) return this.store.writeRecord(snapshot);
      this.guard.refused(task);
    };
    const chain = (this.chains.get(id) ?? Promise.resolve())
      .then(write)
      .catch((err: unknown) => this.failed(task, err));
    this.chains.set(id, chain);
    // Settled chains go, so the map holds only saves in flight.
    void chain.then(() => {
      if (this.chains.get(id) === chain) this.chains.delete(id);
    });
    return chain;
  }

  // Drops pending coalesced saves and waits (bounded) for the writes in flight.
  async flush(deadlineMs: number): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.race([
      Promise.allSettled([...this.chains.values()]),
      new Promise((r) => setTimeout(r, deadlineMs).unref()),
    ]);
  }
}
