import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  type WriteStream,
} from 'node:fs';
import { mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { isFinal, type TaskRecord } from './types.js';

// An append-only JSONL log of one task's raw events, written as they arrive.
export interface EventLog {
  append(line: string): void;
  close(): Promise<void>;
  readonly error: string | undefined;
}

const ID_RE = /^t_[A-Za-z0-9_-]{4,64}$/;
// How long the background prune reads records before it lets calls in (task_status p99 is a benchmark target).
const PRUNE_SLICE_MS = 2;

// Task state on disk: <root>/tasks/<id>/{record.json,events.jsonl} plus <root>/active/<id> markers for unfinished
// tasks.
export class TaskStore {
  readonly tasksDir: string;
  readonly activeDir: string;

  constructor(readonly root: string) {
    this.tasksDir = join(root, 'tasks');
    this.activeDir = join(root, 'active');
    mkdirSync(this.tasksDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.activeDir, { recursive: true, mode: 0o700 });
  }

  taskDir(id: string): string {
    return join(this.tasksDir, id);
  }

  eventsPath(id: string): string {
    return join(this.taskDir(id), 'events.jsonl');
  }

  // Atomic: write a temp file next to the record, then rename over it.
  async writeRecord(record: TaskRecord): Promise<void> {
    const dir = this.taskDir(record.id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, `record.json.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    try {
      await writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
      await rename(tmp, join(dir, 'record.json'));
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }

  readRecord(id: string): TaskRecord | undefined {
    if (!ID_RE.test(id)) return undefined;
    try {
      return JSON.parse(readFileSync(join(this.taskDir(id), 'record.json'), 'utf8')) as TaskRecord;
    } catch {
      return undefined;
    }
  }

  hasTask(id: string): boolean {
    return ID_RE.test(id) && existsSync(join(this.taskDir(id), 'record.json'));
  }

  private listing?: { mtimeMs: number; ids: string[] };

  // Task ids newest first (ids sort by creation time); the listing is re-read only when the directory changed.
  listIds(): string[] {
    try {
      const mtimeMs = statSync(this.tasksDir).mtimeMs;
      if (this.listing?.mtimeMs !== mtimeMs)
        this.listing = {
          mtimeMs,
          ids: readdirSync(this.tasksDir)
            .filter((n) => ID_RE.test(n))
            .sort()
            .reverse(),
        };
      return this.listing.ids;
    } catch {
      return [];
    }
  }

  async markActive(id: string, ownerPid: number): Promise<void> {
    await writeFile(join(this.activeDir, id), String(ownerPid), { mode: 0o600 });
  }

  async clearActive(id: string): Promise<void> {
    await unlink(join(this.activeDir, id)).catch(() => {});
  }

  listActive(): string[] {
    try {
      return readdirSync(this.activeDir).filter((n) => ID_RE.test(n));
    } catch {
      return [];
    }
  }

  openEventLog(id: string): EventLog {
    mkdirSync(this.taskDir(id), { recursive: true, mode: 0o700 });
    let error: string | undefined;
    const stream: WriteStream = createWriteStream(this.eventsPath(id), { flags: 'a', mode: 0o600 });
    stream.on('error', (err) => {
      error ??= err.message;
    });
    return {
      append(line: string) {
        if (!error && !stream.destroyed && !stream.writableEnded) stream.write(`${line}\n`);
      },
      close: () =>
        new Promise<void>((resolve) => {
          if (stream.destroyed || stream.writableEnded) return resolve();
          stream.end(() => resolve());
          stream.once('error', () => resolve());
        }),
      get error() {
        return error;
      },
    };
  }

  // Reads raw event lines [from, from+limit) of a task's log (1-based sequence numbers).
  async readEventLines(id: string, from: number, limit: number): Promise<Array<{ seq: number; line: string }>> {
    const path = this.eventsPath(id);
    if (!existsSync(path)) return [];
    const out: Array<{ seq: number; line: string }> = [];
    const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
    let seq = 0;
    for await (const line of rl) {
      seq++;
      if (seq < from) continue;
      out.push({ seq, line });
      if (out.length >= limit) break;
    }
    rl.close();
    return out;
  }

  async removeTask(id: string): Promise<void> {
    await rm(this.taskDir(id), { recursive: true, force: true });
  }

  // Removes finished tasks older than maxAgeDays, and the oldest beyond maxTasks; never a protected one.
  async prune(options: {
    maxAgeDays: number;
    maxTasks: number;
    protect: (id: string) => boolean;
    now?: number;
  }): Promise<number> {
    const now = options.now ?? Date.now();
    const ids = [...this.listIds()];
    let removed = 0;
    let slice = performance.now();
    for (let i = 0; i < ids.length; i++) {
      // Yield every PRUNE_SLICE_MS: a large store must not stall the server's event loop (a call waits at most that).
      if (performance.now() - slice > PRUNE_SLICE_MS) {
        await new Promise((r) => setImmediate(r));
        slice = performance.now();
      }
      const id = ids[i]!;
      if (options.protect(id)) continue;
      const rec = this.readRecord(id);
      if (!rec) continue;
      if (!isFinal(rec.state)) continue;
      const old = now - (rec.endedAt ?? rec.updatedAt) > options.maxAgeDays * 86_400_000;
      if (old || i >= options.maxTasks) {
        await this.removeTask(id);
        removed++;
      }
    }
    return removed;
  }
}
