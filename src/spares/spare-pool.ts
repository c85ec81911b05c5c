import type { Logger } from '../log.js';
import { ClaudeRun, filesIntact, type RunSpec, type StopTimings } from '../claude/run.js';
import { totalRssMb } from '../claude/rss.js';
import type { ProcessTable } from '../claude/spawn.js';
import { SpareSizer } from './spare-sizer.js';

// Everything fixed when a claude process is spawned: a spare serves only a request with exactly this.
export interface SpareSpec extends RunSpec {
  key: string;
  /** The tier it serves (for metrics). */
  tier?: string;
}

// How many spares a key may have: at least min while demand lasts (min stays after it), at most max.
export interface SpareBounds {
  min: number;
  max: number;
}

// A pre-spawned run (stream-json input), waiting for exactly one prompt.
interface Spare {
  run: ClaudeRun;
  bornAt: number;
}

interface Entry {
  spec: SpareSpec;
  sizer: SpareSizer;
  bounds: SpareBounds;
  usedAt: number;
  backoffMs: number;
  timer?: NodeJS.Timeout;
  /** Kept by keepWarm (a tier's default request): never evicted for another spec. */
  pinned: boolean;
}

// How the pool sizes itself.
export interface PoolOptions {
  log: Logger;
  ttlMs: number;
  table: ProcessTable;
  timings: StopTimings;
  shutdownTimings: StopTimings;
  /** All spares together stay within this much resident memory (measured per spare). */
  memoryMb: number;
  warmupS: number;
  idleS: number;
  /** How many different specs (e.g. cwds) are kept warm at once; the least recently used goes first. */
  maxKeys: number;
  tickMs: number;
  /** A spare found its binary gone (ExitInfo.binaryGone): the server's lookup hears of it (BinaryLookup.forget). */
  binaryGone?(path: string): void;
}

const RETIRED = { reason: 'retired', message: 'warm spare retired' };
const ASSUMED_SPARE_MB = 250;
const TAU_S = 10;

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

// Warm claude processes per spec, each used once; the number per spec follows demand (an average arrival rate times
// the warm-up time, within min..max and the memory budget) and falls back to min when demand goes quiet.
export class SparePool {
  private readonly ready = new Map<string, Spare[]>();
  private readonly entries = new Map<string, Entry>();
  private readonly tick: NodeJS.Timeout;
  private disposed = false;
  readonly stats: SpareStats = { hits: 0, misses: 0, spawned: 0, expired: 0, died: 0, ready: 0 };

  constructor(private readonly options: PoolOptions) {
    this.tick = setInterval(() => this.adjust(), options.tickMs);
    this.tick.unref();
  }

  // False when there is no memory for spares at all (then nothing asks the pool, and nothing counts as a miss).
  get enabled(): boolean {
    return this.options.memoryMb > 0 && !this.disposed;
  }

  // Pids of the spares ready now (for server_stats and tests).
  readyPids(): number[] {
    return [...this.ready.values()].flat().map((s) => s.run.pid);
  }

  // Spares ready now, by tier (for metrics).
  readyByTier(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, { spec }] of this.entries)
      out[spec.tier ?? key] = (out[spec.tier ?? key] ?? 0) + (this.ready.get(key)?.length ?? 0);
    return out;
  }

  // Keeps spares for a spec (idempotent; the bounds are updated).
  keepWarm(spec: SpareSpec, bounds: SpareBounds): void {
    if (this.disposed || bounds.max <= 0) return;
    const entry = this.entries.get(spec.key);
    if (entry) Object.assign(entry.bounds, bounds);
    else this.register(spec, bounds, true);
    this.entries.get(spec.key)!.pinned = true;
    this.adjust();
  }

  // Hands out a warm run for this key, never to two callers, or undefined (a miss: the caller goes cold). The request
  // counts as demand; a spec seen for the first time (another cwd) is kept warm from now on, within its bounds.
  take(key: string, wanted?: { spec: SpareSpec; bounds: SpareBounds }): ClaudeRun | undefined {
    const now = Date.now();
    let entry = this.entries.get(key);
    if (!entry && wanted && wanted.bounds.max > 0 && !this.disposed)
      entry = this.register(wanted.spec, { ...wanted.bounds, min: 0 });
    entry?.sizer.arrival(now);
    if (entry) entry.usedAt = now;
    const list = this.ready.get(key) ?? [];
    let taken: ClaudeRun | undefined;
    while (list.length && !taken) {
      const spare = list.shift()!;
      if (spare.run.hasExited()) continue;
      if (now - spare.bornAt > this.options.ttlMs) {
        this.stats.expired++;
        void this.retire(spare);
        continue;
      }
      this.options.log.info({ pid: spare.run.pid, ageMs: now - spare.bornAt }, 'warm spare used');
      taken = spare.run;
    }
    if (taken && entry) entry.backoffMs = MIN_BACKOFF_MS;
    if (taken) this.stats.hits++;
    else this.stats.misses++;
    this.refreshReady();
    setImmediate(() => this.adjust());
    return taken;
  }

  // Drops every spec spawned from `bin`, with its spares (that binary is gone): none is spawned from it again.
  dropBin(bin: string): void {
    for (const [key, entry] of [...this.entries]) if (entry.spec.bin === bin) this.drop(key);
  }

  // Retires the ready spares of every spec whose argv names a file in `dir` (their files were found changed, then
  // written again: a spare spawned meanwhile may have read another's text); the specs stay, and spares are spawned
  // again from the files as they are now.
  retireNaming(dir: string): void {
    const inDir = (arg: string) => arg.includes(`=${dir}/`) || arg.startsWith(`${dir}/`);
    for (const [key, entry] of this.entries) {
      if (!entry.spec.args.some(inDir)) continue;
      for (const spare of this.ready.get(key)?.splice(0) ?? []) void this.retire(spare);
    }
    this.refreshReady();
    setImmediate(() => this.adjust());
  }

  private register(spec: SpareSpec, bounds: SpareBounds, pinned = false): Entry {
    const own = { ...bounds };
    const entry: Entry = {
      spec,
      bounds: own,
      pinned,
      usedAt: Date.now(),
      backoffMs: MIN_BACKOFF_MS,
      sizer: new SpareSizer(own, { warmupS: this.options.warmupS, idleS: this.options.idleS, tauS: TAU_S }),
    };
    this.entries.set(spec.key, entry);
    // Too many specs: the least recently used one that keepWarm did not pin goes, with its spares.
    while (this.entries.size > this.options.maxKeys) {
      const [oldest] = [...this.entries.entries()]
        .filter(([, e]) => !e.pinned)
        .sort((a, b) => a[1].usedAt - b[1].usedAt);
      if (!oldest) break;
      this.drop(oldest[0]);
    }
    return entry;
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (entry?.timer) clearTimeout(entry.timer);
    this.entries.delete(key);
    for (const spare of this.ready.get(key) ?? []) void this.retire(spare);
    this.ready.delete(key);
    this.refreshReady();
  }

  // Brings every key to its target now: spawns what is missing (within the memory budget), retires what is extra.
  private adjust(): void {
    if (this.disposed) return;
    const pids = this.readyPids();
    // Spares that just started are still small: never count one as less than the usual size.
    const perSpare = Math.max(ASSUMED_SPARE_MB, pids.length ? totalRssMb(pids) / pids.length : 0);
    let room = Math.floor(this.options.memoryMb / perSpare) - pids.length;
    for (const [key, entry] of this.entries) {
      const list = this.ready.get(key) ?? [];
      this.ready.set(key, list);
      const target = entry.sizer.target(list.length + Math.max(0, room));
      while (list.length > target) void this.retire(list.shift()!);
      // None is spawned from shared files that hold another text than was written (the next run of that spec writes
      // them again and retires the spares of their folder: tier-run.ts sharedSpec).
      if (list.length < target && !filesIntact(entry.spec)) continue;
      while (list.length < target && room > 0 && !entry.timer) {
        list.push(this.spawn(entry.spec, key));
        room--;
      }
      if (
        target === 0 &&
        entry.bounds.min === 0 &&
        !list.length &&
        Date.now() - entry.usedAt > this.options.idleS * 1000
      )
        this.entries.delete(key);
    }
    this.refreshReady();
  }

  private refreshReady(): void {
    let n = 0;
    for (const list of this.ready.values()) n += list.length;
    this.stats.ready = n;
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
      if (exit.binaryGone) this.options.binaryGone?.(exit.binaryGone);
      const entry = this.entries.get(key);
      if (!entry || this.disposed) return;
      this.options.log.warn(
        { exit, stderr: run.stderrTail().slice(-300), retryInMs: entry.backoffMs },
        'warm spare died; replacing it',
      );
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        this.adjust();
      }, entry.backoffMs);
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
    this.adjust();
  }

  private async retire(spare: Spare): Promise<void> {
    await spare.run.close(RETIRED);
  }

  // Kills every spare at once; never blocks shutdown for long.
  async dispose(): Promise<void> {
    this.disposed = true;
    clearInterval(this.tick);
    for (const entry of this.entries.values()) if (entry.timer) clearTimeout(entry.timer);
    const all = [...this.ready.values()].flat();
    this.ready.clear();
    this.refreshReady();
    await Promise.allSettled(all.map((s) => s.run.stop(RETIRED, this.options.shutdownTimings)));
  }
}
