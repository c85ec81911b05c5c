import { setTimeout as delay } from 'node:timers/promises';
import { groupsOf, listDescendants, snapshotTree, type GroupRef } from './descendants.js';
import { killGroupIfLeaderMatches, killRecorded } from './kill-groups.js';
import { readProcStat, type ProcInfo } from './proc.js';

export interface TerminateOptions {
  pid: number; // the claude process (spawned detached => it leads its own process group)
  interrupt?: () => void | Promise<void>; // e.g. a stream-json control_request interrupt on stdin
  closeStdin?: () => void;
  exited: Promise<unknown>; // settles when the child has exited
  interruptWaitMs?: number; // default 3000: wait after interrupt for a natural exit
  graceMs?: number; // default 2000: SIGTERM -> SIGKILL delay
  signal?: AbortSignal; // aborting cuts every remaining wait short and goes straight to SIGKILL
}

export interface TerminateReport {
  snapshot: ProcInfo[];
  groups: number[];
  steps: string[];
  survivors: number[];
  durationMs: number;
}

const VERIFY_MS = 1000;

// Still the very process that was noted (same start time) and not yet a zombie.
function sameAndRunning(p: ProcInfo): boolean {
  const now = readProcStat(p.pid);
  return now !== undefined && now.startTime === p.startTime && now.state !== 'Z' && now.state !== 'X';
}

// Every process and group noted so far, keyed by (pid, start time) so a reused pid is a different entry.
class Noted {
  readonly procs = new Map<string, ProcInfo>();
  readonly groups = new Map<number, GroupRef>();
  add(procs: ProcInfo[], groups: GroupRef[]): number {
    const before = this.procs.size;
    for (const p of procs) this.procs.set(`${p.pid}:${p.startTime}`, p);
    for (const g of groups) if (!this.groups.has(g.pgid)) this.groups.set(g.pgid, g);
    return this.procs.size - before;
  }
  // Descendants of every noted process that still runs (orphans of a dead claude are found through their own parents).
  rescan(): number {
    const found: ProcInfo[] = [];
    for (const p of this.procs.values()) {
      if (!sameAndRunning(p)) continue;
      found.push(p, ...listDescendants(p.pid));
    }
    return this.add(found, groupsOf(found));
  }
  killAll(signal: NodeJS.Signals): number {
    let n = 0;
    for (const g of this.groups.values()) if (killGroupIfLeaderMatches(g, signal)) n++;
    return n + killRecorded([...this.procs.values()], signal);
  }
  alive(): number[] {
    return [...this.procs.values()].filter(sameAndRunning).map((p) => p.pid);
  }
}

// Claude's own group, even when the snapshot came too late to see claude itself.
function rootGroup(pid: number, root: ProcInfo | undefined): GroupRef[] {
  if (root && root.pgid !== pid) return [];
  return [{ pgid: pid, leaderStartTime: root?.startTime }];
}

// Resolves after ms, or earlier when the child exits or the abort signal fires; true when the child has exited.
async function waitExit(
  state: { exited: boolean },
  exited: Promise<unknown>,
  ms: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (state.exited || ms <= 0 || signal?.aborted) return state.exited;
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([exited.then(noop, noop), delay(ms, undefined, { signal: ac.signal }).catch(noop)]);
  } finally {
    ac.abort();
    signal?.removeEventListener('abort', onAbort);
  }
  return state.exited;
}

function noop(): void {}

// The graceful stop of one claude process and everything it started: interrupt, close stdin, SIGTERM, SIGKILL, then
// every noted group and pid.
export async function terminateTree(options: TerminateOptions): Promise<TerminateReport> {
  const started = Date.now();
  const { pid, signal } = options;
  const steps: string[] = [];
  const step = (text: string) => steps.push(`${Date.now() - started}ms ${text}`);
  const state = { exited: false };
  options.exited.then(
    () => (state.exited = true),
    () => (state.exited = true),
  );
  await Promise.resolve(); // let an already-settled `exited` be seen

  const first = snapshotTree(pid);
  const noted = new Noted();
  noted.add(first.procs, [...rootGroup(pid, first.root), ...first.groups]);
  step(`snapshot: ${first.procs.length} processes, groups ${[...noted.groups.keys()].join(',') || 'none'}`);

  if (!state.exited && options.interrupt && !signal?.aborted) {
    try {
      await options.interrupt();
      step('interrupt sent');
    } catch (err) {
      step(`interrupt failed: ${(err as Error)?.message ?? String(err)}`);
    }
    if (await waitExit(state, options.exited, options.interruptWaitMs ?? 3000, signal)) step('exited after interrupt');
  }
  if (options.closeStdin) {
    try {
      options.closeStdin();
      step('stdin closed');
    } catch {
      step('stdin close failed');
    }
  }
  const claudeGroup = noted.groups.get(pid);
  if (!state.exited) {
    noted.rescan();
    // Not detached (shares our group): only the process itself can be signalled.
    if (claudeGroup) killGroupIfLeaderMatches(claudeGroup, 'SIGTERM');
    else if (first.root) killRecorded([first.root], 'SIGTERM');
    step(claudeGroup ? 'SIGTERM to claude group' : 'SIGTERM to claude');
    if (await waitExit(state, options.exited, options.graceMs ?? 2000, signal)) step('exited after SIGTERM');
  }
  // Note what appeared meanwhile while parents still link to it, then kill everything noted at once.
  const added = noted.rescan();
  if (claudeGroup) killGroupIfLeaderMatches(claudeGroup, 'SIGKILL');
  const signalled = noted.killAll('SIGKILL');
  step(
    `SIGKILL: ${noted.groups.size} groups, ${noted.procs.size} processes (${added} new), ${signalled} ` +
      `signals delivered`,
  );
  // Whatever noted process still runs (e.g. it was not ours to kill) may have forked meanwhile: one more pass.
  if (noted.rescan() > 0) {
    noted.killAll('SIGKILL');
    step('SIGKILL: late processes');
  }

  let survivors = noted.alive();
  for (const until = Date.now() + VERIFY_MS; survivors.length && Date.now() < until; survivors = noted.alive())
    await delay(20);
  if (survivors.length) step(`survivors: ${survivors.join(',')}`);
  return {
    snapshot: [...noted.procs.values()],
    groups: [...noted.groups.keys()],
    steps,
    survivors,
    durationMs: Date.now() - started,
  };
}

// Last resort for process.on('exit'): note the tree and SIGKILL every group and pid at once, without waiting.
export function killTreeSync(pid: number): number {
  const snap = snapshotTree(pid);
  let n = 0;
  for (const g of [...rootGroup(pid, snap.root), ...snap.groups]) if (killGroupIfLeaderMatches(g, 'SIGKILL')) n++;
  return n + killRecorded(snap.procs, 'SIGKILL');
}
