import type { Logger } from '../log.js';
import { ClaudeRun, type RunSpec, type StopTimings } from '../claude/run.js';
import type { ProcessTable } from '../claude/spawn.js';

// Everything fixed when a claude process is spawned: a spare serves only a request with exactly this.
export interface SpareSpec extends RunSpec {
  key: string;
  /** The tier it serves (for metrics). */
  tier?: string;
}

// A pre-spawned run (stream-json input), waiting for exactly one prompt.
interface Spare {
  run: ClaudeRun;
  bornAt: number;
}

const RETIRED = { reason: 'retired', message: 'warm spare retired' };

export interface SpareStats {
  hits: number;
  misses: number;
  spawned: number;
  expired: number;
  died: number;
  ready: number;
}

const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;

// Keeps `size` warm claude processes per spec; each is used once, then retired and replaced in the background.
export class SparePool {
  private readonly ready = new Map<string, Spare[]>();
  private readonly specs = new Map<string, { spec: SpareSpec; size: number; backoffMs: number; timer?: NodeJS.Timeout }>();
  private disposed = false;
  readonly stats: SpareStats = { hits: 0, misses: 0, spawned: 0, expired: 0, died: 0, ready: 0 };

  constructor(private readonly options: { log: Logger; ttlMs: number; table: ProcessTable; timings: StopTimings; shutdownTimings: StopTimings }) {}

  // Pids of the spares ready now (for server_stats and tests).
  readyPids(): number[] {
    return [...this.ready.values()].flat().map((s) => s.run.pid);
  }

  // Spares ready now, by tier (for metrics).
  readyByTier(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, { spec }] of this.specs) out[spec.tier ?? key] = (out[spec.tier ?? key] ?? 0) + (this.ready.get(key)?.length ?? 0);
    return out;
  }

  // Starts keeping spares for a spec (idempotent).
  keepWarm(spec: SpareSpec, size: number): void {
    if (this.disposed || size <= 0 || this.specs.has(spec.key)) return;
    this.specs.set(spec.key, { spec, size, backoffMs: MIN_BACKOFF_MS });
    this.fill(spec.key);
  }

  // Hands out a warm run for this key, never to two callers, or undefined (a miss: the caller goes cold).
  take(key: string): ClaudeRun | undefined {
    const list = this.ready.get(key) ?? [];
    const now = Date.now();
    while (list.length) {
      const spare = list.shift()!;
      if (spare.run.hasExited()) continue;
      if (now - spare.bornAt > this.options.ttlMs) {
        this.stats.expired++;
        void this.retire(spare);
        continue;
      }
      this.stats.hits++;
      this.refreshReady();
      this.options.log.info({ pid: spare.run.pid, ageMs: now - spare.bornAt }, 'warm spare used');
      setImmediate(() => this.fill(key));
      return spare.run;
    }
    this.stats.misses++;
    if (this.specs.has(key)) this.options.log.info('no warm spare ready; going cold');
    return undefined;
  }

  private refreshReady(): void {
    let n = 0;
    for (const list of this.ready.values()) n += list.length;
    this.stats.ready = n;
  }

  private fill(key: string): void {
    const entry = this.specs.get(key);
    if (!entry || this.disposed) return;
    const list = this.ready.get(key) ?? [];
    this.ready.set(key, list);
    while (list.length < entry.size) list.push(this.spawn(entry.spec, key));
    this.refreshReady();
  }

  private spawn(spec: SpareSpec, key: string): Spare {
    const run = new ClaudeRun(spec, this.options.table, this.options.timings);
    this.stats.spawned++;
    const spare: Spare = { run, bornAt: Date.now() };
    const timer = setTimeout(() => this.expire(key, spare), this.options.ttlMs);
    timer.unref();
    void run.ended.then((exit) => {
      clearTimeout(timer);
      const list = this.ready.get(key);
      const idx = list?.indexOf(spare) ?? -1;
      if (idx < 0) return; // taken or retired: expected
      list!.splice(idx, 1);
      this.refreshReady();
      this.stats.died++;
      const entry = this.specs.get(key);
      if (!entry || this.disposed) return;
      this.options.log.warn({ exit, stderr: run.stderrTail().slice(-300), retryInMs: entry.backoffMs }, 'warm spare died; replacing it');
      entry.timer = setTimeout(() => this.fill(key), entry.backoffMs);
      entry.timer.unref();
      entry.backoffMs = Math.min(entry.backoffMs * 2, MAX_BACKOFF_MS);
    });
    return spare;
  }

  private expire(key: string, spare: Spare): void {
    const list = this.ready.get(key);
    const idx = list?.indexOf(spare) ?? -1;
    if (idx < 0) return;
    list!.splice(idx, 1);
    this.stats.expired++;
    void this.retire(spare);
    this.fill(key);
  }

  private async retire(spare: Spare): Promise<void> {
    await spare.run.close(RETIRED);
  }

  // Kills every spare at once; never blocks shutdown for long.
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const entry of this.specs.values()) if (entry.timer) clearTimeout(entry.timer);
    const all = [...this.ready.values()].flat();
    this.ready.clear();
    this.refreshReady();
    await Promise.allSettled(all.map((s) => s.run.stop(RETIRED, this.options.shutdownTimings)));
  }
}
