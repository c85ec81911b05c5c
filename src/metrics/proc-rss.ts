import { readFileSync } from 'node:fs';
import { listDescendants } from '../claude/terminate/index.js';

const PAGE = 4096;

function rssOf(pid: number): number {
  try {
    return (Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) || 0) * PAGE;
  } catch {
    return 0; // gone
  }
}

// Resident memory in bytes of these processes and everything under them (a contained claude runs under its unshare).
export function rssBytes(pids: number[]): number {
  const seen = new Set<number>();
  for (const pid of pids) {
    seen.add(pid);
    for (const p of listDescendants(pid)) seen.add(p.pid);
  }
  let total = 0;
  for (const pid of seen) total += rssOf(pid);
  return total;
}
