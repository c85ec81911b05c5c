import { join } from 'node:path';
import type { ClaudeRun, RunOutcome } from '../claude/run.js';
import type { ExitInfo } from '../claude/spawn.js';
import { totalRssMb } from '../claude/rss.js';
import { killRecorded } from '../claude/terminate/index.js';
import type { Verdict } from '../guards/breaker.js';
import { Leases } from '../leases.js';
import type { LiveTask } from './live-task.js';
import type { MonitorLimits } from './monitors.js';
import { decideOutcome } from './outcome.js';
import type { Scheduler } from './scheduler.js';
import type { EventLog, TaskStore } from './store.js';
import { permissionHook } from './permission-hook.js';
import { handleTaskLine } from './task-events.js';
import { spareable } from './task-spare.js';
import { runTier, type TierRunDeps } from '../tier-run/tier-run.js';
import { hiddenNow } from '../isolation/sandbox-hidden.js';
import type { Admission } from './backend.js';
import { leaseWorkdir } from './task-worktree.js';
import type { RepoLocks } from '../isolation/repo-locks.js';
import { LOCAL_PRINCIPAL, type EndInfo, type ProcRef } from './types.js';
import { cwdStill, pathBounds } from '../cwd.js';

// What a task's run needs from the registry.
export interface RunnerDeps extends TierRunDeps {
  store: TaskStore;
  locks: RepoLocks;
  scheduler: Scheduler;
  save(task: LiveTask, now?: boolean): Promise<void>;
}

const SNAPSHOT_EVERY_MS = 2000;
const MAX_PROCS = 200;

function mergeProcs(into: ProcRef[], found: Array<{ pid: number; startTime?: string; pgid?: number }>): boolean {
  let changed = false;
  for (const p of found) {
    if (into.some((q) => q.pid === p.pid && q.startTime === p.startTime)) continue;
    into.push({ pid: p.pid, startTime: p.startTime, pgid: p.pgid });
    changed = true;
  }
  if (into.length > MAX_PROCS) into.splice(1, into.length - MAX_PROCS);
  return changed;
}

// The whole life of one task, from the queue to its final record, as one run of its resolved request (its admission
// carries it). Everything it holds (the breaker ticket, the active marker, the running slot, its run files, the event
// log, the claude run) is released in one finally.
export async function runTask(task: LiveTask, admission: Admission, deps: RunnerDeps): Promise<void> {
  const { ticket, hold, run: resolved } = admission;
  const req = task.record.request;
  const leases = new Leases((name, err) =>
    deps.log.warn({ task: task.id, lease: name, err: (err as Error)?.message }, 'release failed'),
  );
  let outcome: RunOutcome | undefined;
  let exit: ExitInfo = { exitCode: undefined, signal: undefined };
  let run: ClaudeRun | undefined;
  let eventLog: EventLog | undefined;
  let verdict: Verdict = { kind: 'neutral' };
  leases.add('breaker ticket', () => ticket.report(verdict));
  // Settled with the real cost by the final record; released here if that never came.
  leases.add('budget hold', () => hold.settle());
  leases.add('active marker', () => deps.store.clearActive(task.id));
  leases.add('final record', async () => {
    const stderr = run?.stderrTail() ?? '';
    await finalize(task, deps, { outcome, exit, stderr, eventLog, hold });
  });
  try {
    leases.add('running slot', await deps.scheduler.acquire(task.stopSignal, task.record.principal ?? LOCAL_PRINCIPAL));
    task.update((r) => {
      r.state = 'running';
      r.startedAt = Date.now();
    });
    const { tier } = resolved;
    // A task a warm spare can serve runs with the shared files of its key; any other with files of its own.
    const shared = spareable(req, tier, deps.depth);
    // Its cwd was checked when it was submitted; a task that ran meanwhile may have swapped a folder on its path for
    // a link (into the state dir, out of the roots): checked again, and that checked path is where it runs.
    const { stateDir, allowedRoots: roots } = deps.config;
    const cwd = cwdStill(req.cwd, 'the task was submitted', pathBounds(roots, stateDir));
    const isolation = { stateDir, roots, locks: deps.locks, env: deps.env };
    const workdir = await leaseWorkdir(task, cwd, !!tier.sandbox?.enabled, isolation, leases);
    if (task.record.worktree) await deps.save(task, true);
    // A run of its own reads nothing of the state dir but its own folder (its worktree, else its cwd), and not the
    // user's config; a task queued by a deeper server (cluster) runs as deep as that server.
    const own = shared
      ? undefined
      : {
          dir: join(deps.store.taskDir(task.id), 'run'),
          systemPrompt: req.systemPrompt,
          scope: {
            stateDir: deps.config.stateDir,
            ownDir: task.record.worktree?.path ?? workdir,
            hidden: hiddenNow(deps.configCandidates),
            cwd: workdir,
          },
          depth: Math.max(deps.depth, req.depth ?? 0),
        };
    const forwardPermissions = tier.permissionPrompts === 'forward';
    const flags = {
      maxTurns: req.maxTurns,
      maxBudgetUsd: req.maxBudgetUsd,
      resumeSessionId: req.resumeSessionId,
      forkSession: req.fork,
      forwardPermissions,
    };
    const shape = { workdir, own, flags };
    const turn = {
      kind: 'task' as const,
      timeoutS: req.timeoutS,
      idleS: req.idleTimeoutS,
      jsonSchema: req.outputSchema,
    };
    const limits: MonitorLimits = {
      loopRepeats: tier.loopRepeats,
      maxOutputTokens: req.maxOutputTokens ?? tier.maxOutputTokens,
      maxCostUsd: req.maxBudgetUsd ?? tier.maxBudgetUsd,
      maxTurns: req.maxTurns ?? tier.maxTurns,
      maxOutputBytes: deps.config.limits.maxOutputBytes,
    };
    const snapshot = (r: ClaudeRun) => {
      const procs = r.snapshot();
      if (!procs.length) return;
      task.update((rec) => {
        if (rec.process && mergeProcs(rec.process.procs, procs)) void deps.save(task);
        rec.stats.peakRssMb = Math.max(rec.stats.peakRssMb ?? 0, totalRssMb(procs.map((p) => p.pid)));
      });
      const rss = task.record.stats.peakRssMb ?? 0;
      if (tier.maxMemoryMb && rss > tier.maxMemoryMb)
        void task.stop({
          reason: 'memory',
          message: `stopped: memory - the task's processes use ${rss} MB, over the cap of ${tier.maxMemoryMb} MB`,
        });
    };
    // Claude is there, the prompt not yet sent: the task's listeners, record and permission hook go on its run.
    const started = async (r: ClaudeRun, log: EventLog) => {
      run = r;
      const ctx = {
        task,
        eventLog: log,
        limits,
        monitor: { repeats: 0, outputBytes: 0 },
        audit: deps.audit,
        log: deps.log,
        stop: (reason: EndInfo) => void task.stop(reason),
        save: () => void deps.save(task),
        toolStarted: () => setTimeout(() => snapshot(r), 300).unref(),
      };
      r.onLine(
        deps.metrics.firstLine(req.tier, task.record.startedAt ?? Date.now(), (line) => handleTaskLine(line, ctx)),
      );
      const roots = task.record.worktree
        ? [...deps.config.allowedRoots, task.record.worktree.path]
        : deps.config.allowedRoots;
      if (forwardPermissions)
        r.onPermission(
          permissionHook(task, r, tier, { roots, workdir, audit: deps.audit, save: () => void deps.save(task, true) }),
        );
      task.attach(r);
      task.update(
        (rec) =>
          (rec.process = {
            pid: r.pid,
            startTime: r.startTime,
            procs: [{ pid: r.pid, startTime: r.startTime, pgid: r.pid }],
          }),
      );
      deps.log.info({ task: task.id, pid: r.pid, tier: req.tier, model: req.model, cwd: workdir }, 'task started');
      deps.audit.write('task_started', { task_id: task.id, pid: r.pid, tier: req.tier, model: req.model });
      await deps.save(task, true);
      task.notify();
      const snap = setInterval(() => snapshot(r), SNAPSHOT_EVERY_MS);
      leases.add('snapshot timer', () => clearInterval(snap));
    };
    const hooks = {
      spare: shared ? { refill: true } : undefined,
      // A task stopped while its files were made never starts claude.
      beforeStart: () => {
        if (task.stopped) return false;
        const log = deps.store.openEventLog(task.id);
        eventLog = log;
        leases.add('event log', () => log.close());
        return true;
      },
      // Nothing outlives its task: after the run, whatever it started that is still around goes (start times
      // checked), before its worktree is committed.
      close: async (r: ClaudeRun) => {
        await r.close({ reason: 'closed', message: 'task ended' });
        if (task.record.process) killRecorded(task.record.process.procs, 'SIGKILL');
      },
      started: (r: ClaudeRun) => started(r, eventLog!),
    };
    const end = await runTier(deps, resolved, shape, turn, hooks, leases);
    if (!end.run) return;
    outcome = end.outcome;
    // What the run said about the upstream, for the breaker ticket (the tier run's verdict; nothing if it was stopped).
    verdict = end.verdict;
    // After its result claude exits on its own; one that does not is stopped after the kill grace.
    if (end.outcome.kind === 'result')
      await end.run.close({ reason: 'closed', message: 'claude did not exit after its result' });
    exit = await end.run.ended;
  } catch (err) {
    // One stop record: a task whose run failed is stopped with that reason, before its worktree is committed and
    // its record written, so both say spawn_failed (a result that came first stays the record).
    if (!task.stopped) await task.stop({ reason: 'spawn_failed', message: (err as Error)?.message ?? String(err) });
  } finally {
    await leases.releaseAll();
    task.markDone();
  }
}

// Writes the final state: the first stop wins over a later result, a result over a later stop; what the task
// started and is still around is killed.
async function finalize(
  task: LiveTask,
  deps: RunnerDeps,
  end: {
    outcome?: RunOutcome;
    exit: ExitInfo;
    stderr: string;
    eventLog?: EventLog;
    hold: Admission['hold'];
  },
): Promise<void> {
  // The task's one stop record: its run's outcome (wall, idle and every stop asked for), or a stop before it had a run.
  const stop = task.stopped;
  const writing = task.endWriting();
  task.update((record) => {
    // Ended in the middle of a text block: what claude had written of it is partial output too.
    if (writing?.tail) {
      record.lastText = writing.tail.slice(-2000);
      record.textTail = `${record.textTail ? `${record.textTail}\n` : ''}${writing.tail}`.slice(-8192);
    }
    const decided = decideOutcome(record, stop, end.exit, end.stderr);
    // A stopped run's result is claude's answer to our interrupt, not an answer to the task: the stop says what
    // happened.
    if (stop) record.result = undefined;
    record.state = decided.state;
    record.end = decided.end;
    record.endedAt = Date.now();
  });
  // Before anything awaits: a caller woken by the final state already sees the spend against its budget.
  deps.spending.taskFinished(task.record, end.hold);
  await end.eventLog?.close();
  if (end.eventLog?.error) task.noteStoreError(`event log: ${end.eventLog.error}`);
  await deps.save(task, true);
  const { record } = task;
  deps.metrics.taskFinished(record);
  deps.log.info({ task: task.id, state: record.state, reason: record.end?.reason, exit: end.exit }, 'task ended');
  deps.audit.write('task_ended', {
    task_id: task.id,
    state: record.state,
    reason: record.end?.reason,
    message: record.end?.message,
    cost_usd: record.stats.costUsd,
    turns: record.stats.turns,
    tool_calls: record.stats.toolCalls,
  });
}
