import type { GroupRef } from './descendants.js';
import { ownProcessGroup, processStartTime } from './proc.js';

// process.kill that reports instead of throwing (ESRCH: already gone; EPERM: not ours).
export function safeKill(target: number, signal: NodeJS.Signals): boolean {
  try {
    return process.kill(target, signal);
  } catch {
    return false;
  }
}

function forbiddenGroup(pgid: number): boolean {
  return !Number.isInteger(pgid) || pgid <= 1 || pgid === process.pid || pgid === ownProcessGroup();
}

// Signals whole process groups by id (no identity check): for groups known to be alive right now.
export function killGroups(groups: Iterable<number>, signal: NodeJS.Signals): number {
  let n = 0;
  for (const pgid of new Set(groups)) if (!forbiddenGroup(pgid) && safeKill(-pgid, signal)) n++;
  return n;
}

// Signals a group only if its leader is still the recorded process, or is gone (a dead leader's pid cannot be reused
// while its group lives).
export function killGroupIfLeaderMatches(group: GroupRef, signal: NodeJS.Signals): boolean {
  if (forbiddenGroup(group.pgid)) return false;
  const now = processStartTime(group.pgid);
  if (now !== undefined && now !== group.leaderStartTime) return false;
  // Without /proc nothing can be checked: degrade to a plain group kill.
  return safeKill(-group.pgid, signal);
}

// Signals recorded processes only while their current start time equals the recorded one, so a reused pid is never hit.
export function killRecorded(
  procs: ReadonlyArray<{ pid: number; startTime?: string }>,
  signal: NodeJS.Signals,
): number {
  let n = 0;
  const own = new Set([process.pid, process.ppid]);
  for (const p of procs) {
    if (!Number.isInteger(p.pid) || p.pid <= 1 || own.has(p.pid) || p.startTime === undefined) continue;
    if (processStartTime(p.pid) !== p.startTime) continue;
    if (safeKill(p.pid, signal)) n++;
  }
  return n;
}
