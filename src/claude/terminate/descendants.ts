import { readdirSync, readFileSync } from 'node:fs';
import { ownProcessGroup, readProcStat, type ProcInfo } from './proc.js';

// Children of one process from /proc/<pid>/task/*/children (every thread may fork); undefined when that file is
// unavailable.
function childrenFromTasks(pid: number): number[] | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return readProcStat(pid) ? undefined : [];
  }
  const kids: number[] = [];
  for (const tid of tids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && readProcStat(pid)) return undefined;
      continue;
    }
    for (const word of text.split(/\s+/)) if (word) kids.push(Number(word));
  }
  return kids;
}

// Fallback when the children files are missing (kernel without CONFIG_PROC_CHILDREN): one scan of every /proc/*/stat.
export function scanChildrenMap(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return map;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (!stat) continue;
    const list = map.get(stat.ppid);
    if (list) list.push(stat.pid);
    else map.set(stat.ppid, [stat.pid]);
  }
  return map;
}

// Every live descendant of rootPid (not the root itself), parents before children; empty when /proc is missing.
export function listDescendants(rootPid: number, options: { scan?: boolean } = {}): ProcInfo[] {
  let scanned: Map<number, number[]> | undefined = options.scan ? scanChildrenMap() : undefined;
  const out: ProcInfo[] = [];
  const seen = new Set<number>([rootPid]);
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.shift()!;
    let kids = scanned ? undefined : childrenFromTasks(pid);
    if (!kids) {
      scanned ??= scanChildrenMap();
      kids = scanned.get(pid) ?? [];
    }
    for (const kid of kids) {
      if (seen.has(kid)) continue;
      seen.add(kid);
      const stat = readProcStat(kid);
      // A child whose ppid changed between the two reads was reparented: it is no longer ours to follow.
      if (!stat || stat.ppid !== pid) continue;
      out.push(stat);
      queue.push(kid);
    }
  }
  return out;
}

// A process group to kill later, with its leader's start time so a reused pgid is never hit (undefined: leader already
// gone).
export interface GroupRef {
  pgid: number;
  leaderStartTime: string | undefined;
}

export interface TreeSnapshot {
  root: ProcInfo | undefined;
  procs: ProcInfo[];
  groups: GroupRef[];
}

// Groups worth killing among some processes: never ours, never 0 or 1.
export function groupsOf(procs: ProcInfo[]): GroupRef[] {
  const own = ownProcessGroup();
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const groups = new Map<number, GroupRef>();
  for (const p of procs) {
    if (p.pgid <= 1 || p.pgid === own || p.pgid === process.pid || groups.has(p.pgid)) continue;
    const leader = byPid.get(p.pgid) ?? readProcStat(p.pgid);
    groups.set(p.pgid, { pgid: p.pgid, leaderStartTime: leader?.startTime });
  }
  return [...groups.values()];
}

// Root + descendants + their distinct process groups, taken BEFORE anything is killed (orphans lose their parent link).
export function snapshotTree(rootPid: number, options: { scan?: boolean } = {}): TreeSnapshot {
  const root = readProcStat(rootPid);
  const procs = root ? [root, ...listDescendants(rootPid, options)] : [];
  return { root, procs, groups: groupsOf(procs) };
}
