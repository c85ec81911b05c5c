import { killGroupIfLeaderMatches, killRecorded, processStartTime } from '../../claude/terminate/index.js';
import type { Limits } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import type { RepoLocks } from '../../isolation/repo-locks.js';
import { recoverWorktree } from '../../isolation/worktree.js';
import type { TaskStore } from '../store.js';
import { isFinal, type TaskRecord } from '../types.js';

// True when the server process that owns a record is still the same live process (pid and start time).
export function ownerAlive(record: TaskRecord): boolean {
  const { pid, startTime } = record.owner;
  if (pid === process.pid) return true;
  const now = processStartTime(pid);
  return now !== undefined && (startTime === undefined || now === startTime);
}

// What a task whose server died left on this machine: its processes (start times checked) are killed, and what its
// worktree holds is committed to its branch.
export async function cleanUpLost(record: TaskRecord, log: Logger, locks: RepoLocks): Promise<void> {
  const procs = record.process?.procs ?? [];
  // Whole groups first (a leader still being the recorded process), then each recorded pid.
  for (const p of procs)
    if (p.pgid === p.pid && p.startTime)
      killGroupIfLeaderMatches({ pgid: p.pgid, leaderStartTime: p.startTime }, 'SIGKILL');
  killRecorded(procs, 'SIGKILL');
  if (record.worktree && !record.worktreeSummary) {
    record.worktreeSummary = await recoverWorktree(record.worktree, { locks }).catch((err: unknown) => {
      log.warn({ task: record.id, err: (err as Error).message }, 'cannot recover the worktree of a lost task');
      return undefined;
    });
  }
}

// The record of a task whose server died, turned `lost`; its partial output stays.
export function asLost(record: TaskRecord, remote = false): TaskRecord {
  record.state = 'lost';
  record.endedAt = Date.now();
  record.updatedAt = record.endedAt;
  const where = remote && record.owner.host ? ` on ${record.owner.host}` : '';
  record.end = {
    reason: 'lost',
    message:
      `the claude-tiers server that ran this task (pid ${record.owner.pid}${where}) stopped before the task ` +
      `finished; ${record.stats.events} events of partial output kept; its processes were killed`,
  };
  return record;
}

// Declares a task of this state dir whose server died `lost`, on disk.
export async function markLost(
  store: TaskStore,
  record: TaskRecord,
  log: Logger,
  locks: RepoLocks,
): Promise<TaskRecord> {
  await cleanUpLost(record, log, locks);
  asLost(record);
  log.warn({ task: record.id, ownerPid: record.owner.pid }, 'task lost: its server is gone');
  await store.writeRecord(record);
  await store.clearActive(record.id);
  return record;
}

// At start-up: every unfinished task whose owner is gone becomes `lost`; tasks of live servers are left alone.
export async function recoverOrphans(
  store: TaskStore,
  log: Logger,
  locks: RepoLocks,
  onLost?: (r: TaskRecord) => void,
): Promise<number> {
  let n = 0;
  for (const id of store.listActive()) {
    const record = store.readRecord(id);
    if (!record || isFinal(record.state)) {
      await store.clearActive(id);
      continue;
    }
    if (record.owner.pid !== process.pid && ownerAlive(record)) continue;
    onLost?.(await markLost(store, record, log, locks));
    n++;
  }
  if (n) log.warn({ lost: n }, 'tasks of a server that died were marked lost');
  return n;
}

const PRUNE_AFTER_MS = 2000;

// Removes old finished tasks in the background, shortly after start-up, never a task `protect` names.
export function schedulePrune(
  store: TaskStore,
  limits: Pick<Limits, 'pruneMaxAgeDays' | 'pruneMaxTasks'>,
  protect: (id: string) => boolean,
  log: Logger,
): void {
  setTimeout(() => {
    store
      .prune({ maxAgeDays: limits.pruneMaxAgeDays, maxTasks: limits.pruneMaxTasks, protect })
      .then((n) => n && log.info({ removed: n }, 'pruned old tasks'))
      .catch((err: unknown) => log.warn({ err }, 'prune failed'));
  }, PRUNE_AFTER_MS).unref();
}
