import type { TaskRecord } from '../types.js';

// The writes of the tasks this server runs: never throwing, never overlapping per task (the newest goes last), and
// what Redis does not take now kept until it is back (a task that ends while Redis is away still reports its end).
// A write Redis refuses (the task is no longer this server's: another server declared it lost) is reported.
export class OwnerWrites {
  private readonly pending = new Map<string, TaskRecord>();
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly put: (record: TaskRecord) => Promise<boolean>,
    private readonly refused: (record: TaskRecord) => void,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  publish(record: TaskRecord): void {
    this.pending.set(record.id, record);
    if (!this.inFlight.has(record.id)) this.flush(record.id);
  }

  // Redis is back: everything not yet taken goes out.
  retry(): void {
    for (const id of [...this.pending.keys()]) if (!this.inFlight.has(id)) this.flush(id);
  }

  // At shutdown: one last try for what is pending, bounded in time.
  async drain(ms: number): Promise<void> {
    await Promise.race([
      Promise.allSettled([...this.pending.values()].map((r) => this.put(r))),
      new Promise((r) => setTimeout(r, ms).unref()),
    ]);
  }

  private flush(id: string): void {
    const rec = this.pending.get(id);
    if (!rec) return;
    this.inFlight.add(id);
    let wrote = false;
    void this.put(rec)
      .then(
        (taken) => {
          wrote = true;
          if (!taken) this.refused(rec);
        },
        () => {},
      )
      .finally(() => {
        this.inFlight.delete(id);
        if (this.pending.get(id) === rec) {
          if (wrote) this.pending.delete(id);
        } else if (wrote) this.flush(id);
      });
  }
}
