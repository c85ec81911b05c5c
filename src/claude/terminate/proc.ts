import { readFileSync } from 'node:fs';

// One process as seen in /proc/<pid>/stat; startTime (field 22, clock ticks since boot) is kept as a string so it never
// loses precision.
export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  startTime: string;
  state: string;
  comm: string;
}

// Parses the text of /proc/<pid>/stat; comm may hold spaces and parentheses, so fields are counted from the LAST ')'.
export function parseProcStat(text: string): ProcInfo | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state): field N is rest[N - 3].
  const state = rest[0];
  const [ppid, pgid, sid] = [rest[1], rest[2], rest[3]].map(Number);
  const startTime = rest[19];
  if (!state || !startTime || !/^\d+$/.test(startTime)) return undefined;
  if (![pid, ppid, pgid, sid].every((n) => Number.isInteger(n))) return undefined;
  return { pid, ppid: ppid!, pgid: pgid!, sid: sid!, startTime, state, comm: text.slice(open + 1, close) };
}

// Reads one process's stat without ever throwing: undefined when the process (or /proc itself) is missing.
export function readProcStat(pid: number): ProcInfo | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

let procMounted: boolean | undefined;

// Whether /proc is usable here (Linux); everything degrades to plain kill() semantics without it.
export function hasProc(): boolean {
  procMounted ??= readProcStat(process.pid) !== undefined;
  return procMounted;
}

// A running process (zombies count as gone: they hold no resources and cannot be killed any further).
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (hasProc()) {
    const stat = readProcStat(pid);
    return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Identity of a pid over time: (pid, startTime) names one process even after the pid is reused.
export function processStartTime(pid: number): string | undefined {
  return readProcStat(pid)?.startTime;
}

// The process group this server runs in: it must never be signalled by a tree kill.
export function ownProcessGroup(): number | undefined {
  return readProcStat(process.pid)?.pgid;
}
