import { readFileSync } from 'node:fs';

// Resident memory of a set of processes in MB (from /proc/<pid>/statm; missing processes count 0).
export function totalRssMb(pids: number[]): number {
  let pages = 0;
  for (const pid of pids) {
    try {
      pages += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) || 0;
    } catch {
      /* gone */
    }
  }
  return Math.round((pages * 4096) / 1048576);
}
