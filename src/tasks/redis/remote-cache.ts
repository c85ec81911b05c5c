import type { TaskRecord } from '../types.js';

const MAX_CACHED = 1000;

// A task another server runs, as this server follows it: its record as last read and its changes (a long-poll or
// MCP progress follows it the way it follows a task of its own).
export interface RemoteTask {
  readonly record: Readonly<TaskRecord>;
  readonly seq: number;
  readonly writing: undefined;
  onChange(listener: () => void): () => void;
}

// Records of tasks read from Redis, newest reads kept, and who waits on their changes: a change announced by the
// server that runs a task is read again at once for those.
export class RemoteCache {
  private readonly records = new Map<string, TaskRecord>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly anyListeners = new Set<(id: string) => void>();

  constructor(private readonly read: (id: string) => Promise<TaskRecord | undefined>) {}

  peek(id: string): TaskRecord | undefined {
    return this.records.get(id);
  }

  // Keeps a record, the most recent last; the oldest that nobody follows goes when there are too many.
  store(record: TaskRecord): void {
    this.records.delete(record.id);
    this.records.set(record.id, record);
    if (this.records.size <= MAX_CACHED) return;
    for (const id of this.records.keys()) {
      if (this.listeners.has(id)) continue;
      this.records.delete(id);
      break;
    }
  }

  // Reads a record again; its listeners hear of it when it changed.
  async refresh(id: string): Promise<TaskRecord | undefined> {
    const rec = await this.read(id);
    if (!rec) return undefined;
    const before = this.records.get(id);
    this.store(rec);
    if (before && before.updatedAt === rec.updatedAt && before.state === rec.state) return rec;
    for (const l of [...(this.listeners.get(id) ?? [])]) {
      try {
        l();
      } catch {
        // One listener's failure must not keep the others from hearing of the change.
      }
    }
    return rec;
  }

  // A server announced a change of this task: read again when someone waits on it (every call reads a task again
  // anyway, so a record nobody follows may stay behind until then; every server hears every change).
  changed(id: string): void {
    if (this.listeners.has(id) || this.anyListeners.size) {
      void this.refresh(id)
        .then(() => {
          for (const l of [...this.anyListeners]) l(id);
        })
        .catch(() => {});
    }
  }

  // Hears of every announced change of any task, after its record was read again (the board follows all tasks).
  watchAll(listener: (id: string) => void): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  watch(id: string, listener: () => void): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (!set.size && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }

  // A cached task as something to follow (its record must have been read already).
  follower(id: string): RemoteTask | undefined {
    if (!this.records.has(id)) return undefined;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getters below have their own `this`
    const cache = this;
    return {
      get record() {
        return cache.records.get(id)!;
      },
      get seq() {
        return cache.records.get(id)?.stats.events ?? 0;
      },
      writing: undefined,
      onChange: (l) => this.watch(id, l),
    };
  }
}
