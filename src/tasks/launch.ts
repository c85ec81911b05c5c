import { buildClaudeArgs, buildClaudeEnv } from '../claude/args.js';
import type { ClaudeBinary } from '../claude/find-binary.js';
import { parseEventLine } from '../claude/parse-line.js';
import { spawnClaude, type ExitInfo } from '../claude/spawn.js';
import { killRecorded, snapshotTree, terminateTree } from '../claude/terminate/index.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { planRun } from '../tiers.js';
import { join } from 'node:path';
import { applyEvent, oneLine } from './apply-event.js';
import type { LiveTask } from './live-task.js';
import { decideOutcome } from './outcome.js';
import { checkEvent, checkOutput, isRefusal, type MonitorLimits } from './monitors.js';
import { totalRssMb } from '../claude/rss.js';
import type { AuditLog } from '../audit.js';
import { UPSTREAM_FAILURES, type CircuitBreakers } from '../guards/breaker.js';
import type { TaskStore } from './store.js';
import type { EndInfo, ProcRef } from './types.js';

export interface LaunchDeps {
  config: Config;
  log: Logger;
  store: TaskStore;
  depth: number;
  claudeBinary: () => ClaudeBinary;
  audit: AuditLog;
  breakers: CircuitBreakers;
  save: (task: LiveTask, now?: boolean) => Promise<void>;
  finished: (task: LiveTask) => void;
}

const SNAPSHOT_EVERY_MS = 2000;

function mergeProcs(into: ProcRef[], found: Array<{ pid: number; startTime?: string; pgid?: number }>): boolean {
  let changed = false;
  for (const p of found) {
    if (into.some((q) => q.pid === p.pid && q.startTime === p.startTime)) continue;
    into.push({ pid: p.pid, startTime: p.startTime, pgid: p.pgid });
    changed = true;
  }
  if (into.length > 200) into.splice(1, into.length - 200);
  return changed;
}

// Asks a running task to stop with a reason (first reason wins) and kills its whole tree cleanly.
export function stopTask(task: LiveTask, reason: EndInfo, deps: Pick<LaunchDeps, 'config' | 'log'>): Promise<unknown> {
  const won = task.setStopReason(reason);
  const proc = task.proc;
  if (!proc) return Promise.resolve();
  if (!won || task.terminating) return task.terminating ?? Promise.resolve();
  deps.log.info({ task: task.id, reason: reason.reason, by: reason.by }, 'stopping task');
  task.terminating = terminateTree({
    pid: proc.pid,
    exited: proc.exited,
    interrupt: () => {
      proc.writeLine({ type: 'control_request', request_id: `stop_${task.id}`, request: { subtype: 'interrupt' } });
    },
    closeStdin: () => proc.closeStdin(),
    interruptWaitMs: deps.config.limits.interruptWaitMs,
    graceMs: deps.config.limits.killGraceMs,
  })
    .then((report) => {
      killRecorded(task.record.process?.procs ?? [], 'SIGKILL');
      if (report.survivors.length) deps.log.warn({ task: task.id, survivors: report.survivors }, 'processes survived termination');
      return report;
    })
    .catch((err: unknown) => deps.log.error({ err, task: task.id }, 'terminate failed'));
  return task.terminating;
}

// Spawns claude in stream-json mode for a queued task, wires its events, timers and final state.
export function launchTask(task: LiveTask, deps: LaunchDeps): void {
  const { record } = task;
  const req = record.request;
  const tier = deps.config.tiers[req.tier];
  const signal = task.controller.signal;
  // The task holds a running slot from here on, while its MCP config is prepared.
  record.state = 'running';
  record.startedAt = Date.now();
  void (async () => {
    let bin: ClaudeBinary;
    let args: string[];
    try {
      if (!tier) throw new Error(`unknown tier "${req.tier}"`);
      bin = deps.claudeBinary();
      const plan = await planRun(req.tier, tier, req.cwd, deps.config.stateDir, join(deps.store.taskDir(record.id), 'mcp.json'));
      args = buildClaudeArgs({ ...tier, outputFormat: 'stream-json' }, {
        model: req.model,
        appendSystemPrompt: req.systemPrompt,
        maxTurns: req.maxTurns,
        maxBudgetUsd: req.maxBudgetUsd,
        resumeSessionId: req.resumeSessionId,
        ...plan,
      });
    } catch (err) {
      void finalize({ exitCode: undefined, signal: undefined }, { reason: 'spawn_failed', message: (err as Error).message });
      return;
    }
    if (task.stopReason) {
      void finalize({ exitCode: undefined, signal: undefined });
      return;
    }
    run(bin, args);
  })();

  const limits: MonitorLimits = {
    loopRepeats: tier?.loopRepeats ?? 5,
    maxOutputTokens: req.maxOutputTokens ?? tier?.maxOutputTokens,
    maxOutputBytes: deps.config.limits.maxOutputBytes,
  };
  const stopFor = (reason: EndInfo | undefined) => {
    if (reason) void stopTask(task, reason, deps);
  };

  function run(bin: ClaudeBinary, args: string[]): void {
  task.eventLog = deps.store.openEventLog(record.id);
  const proc = spawnClaude({
    bin: bin.path,
    args,
    cwd: req.cwd,
    env: buildClaudeEnv(tier!, process.env, deps.depth),
    maxLineBytes: deps.config.limits.maxStdoutLineBytes,
    onLine: handleLine,
    onOversized: (info) => {
      stopFor(checkOutput(task.monitor, info.bytes, limits));
      task.seq++;
      task.eventLog?.append(JSON.stringify({ type: 'claude_tiers_oversized_line', bytes: info.bytes, preview: info.preview }));
      task.pushLine(`oversized output line (${info.bytes} bytes) skipped: ${oneLine(info.preview, 80)}`, Date.now());
      task.notify();
    },
  });
  task.proc = proc;
  record.process = { pid: proc.pid, startTime: proc.startTime, procs: [{ pid: proc.pid, startTime: proc.startTime, pgid: proc.pid }] };
  deps.log.info({ task: record.id, pid: proc.pid, tier: req.tier, model: req.model, cwd: req.cwd }, 'task started');
  deps.audit.write('task_started', { task_id: record.id, pid: proc.pid, tier: req.tier, model: req.model });
  proc.writeLine({ type: 'user', message: { role: 'user', content: req.prompt }, parent_tool_use_id: null, session_id: '' });
  void deps.save(task, true);
  task.notify();

  const wall = setTimeout(() => void stopTask(task, { reason: 'wall_timeout', message: `stopped: ran longer than timeout_s=${req.timeoutS} s (wall timeout); partial output kept` }, deps), req.timeoutS * 1000);
  const idle = setTimeout(() => void stopTask(task, { reason: 'idle_timeout', message: `stopped: no event from claude for ${req.idleTimeoutS} s (idle timeout; the API may be stalled); partial output kept` }, deps), req.idleTimeoutS * 1000);
  const snap = setInterval(snapshot, SNAPSHOT_EVERY_MS);
  signal.addEventListener(
    'abort',
    () => {
      clearTimeout(wall);
      clearTimeout(idle);
      clearInterval(snap);
    },
    { once: true },
  );

  function snapshot(): void {
    if (proc.hasExited() || !record.process) return;
    const tree = snapshotTree(proc.pid);
    if (mergeProcs(record.process.procs, tree.procs)) void deps.save(task);
    const rss = totalRssMb(tree.procs.map((p) => p.pid));
    record.stats.peakRssMb = Math.max(record.stats.peakRssMb ?? 0, rss);
    if (tier?.maxMemoryMb && rss > tier.maxMemoryMb) stopFor({ reason: 'memory', message: `stopped: memory - the task's processes use ${rss} MB, over the cap of ${tier.maxMemoryMb} MB` });
  }

  function handleLine(line: string): void {
    // A line claude printed after its task was finalized changes nothing: the record is final.
    if (signal.aborted) return;
    const at = Date.now();
    idle.refresh();
    stopFor(checkOutput(task.monitor, Buffer.byteLength(line) + 1, limits));
    const parsed = parseEventLine(line);
    if (parsed.kind === 'event' && isContentDelta(parsed.event as unknown as Record<string, unknown>)) {
      // Partial text of the block being written: shown live, kept if the task ends mid-block; the whole block
      // follows as an assistant event, so deltas are neither logged nor numbered.
      if (task.noteDelta(parsed.event as unknown as Record<string, unknown>)) task.notify();
      return;
    }
    task.seq++;
    if (parsed.kind === 'invalid') {
      task.eventLog?.append(JSON.stringify({ type: 'claude_tiers_invalid_line', reason: parsed.reason, preview: parsed.preview }));
      task.pushLine(`unreadable output: ${oneLine(parsed.preview, 80)}`, at);
      deps.log.warn({ task: record.id, reason: parsed.reason, preview: parsed.preview.slice(0, 120) }, 'claude printed an unreadable line');
    } else {
      task.eventLog?.append(line);
      if (parsed.kind === 'unknown') {
        record.stats.events++;
        record.stats.lastEventAt = at;
      } else {
        const ev = parsed.event as unknown as Record<string, unknown>;
        if (ev.type === 'assistant') task.writing = undefined;
        const toolsBefore = record.stats.toolCalls;
        const text = applyEvent(record, ev, at);
        for (const t of record.tools.slice(record.tools.length - (record.stats.toolCalls - toolsBefore))) {
          deps.audit.write('tool_call', { task_id: record.id, tool: t.name, input: t.summary });
        }
        if (text) task.pushLine(text, at);
        const elapsedS = (at - (record.startedAt ?? at)) / 1000;
        if (elapsedS > 0) record.stats.tokensPerSecond = Math.round((record.stats.outputTokens / elapsedS) * 10) / 10;
        if (ev.type === 'result') {
          (record.costSeries ??= []).push([Math.round(elapsedS * 1000), record.stats.costUsd]);
          if (record.result && !record.result.isError && isRefusal(record.result.text)) record.refusal = true;
        }
        // A result ends the turn anyway; claude's own reason (max turns, budget) stays the one reported.
        if (ev.type !== 'result') stopFor(checkEvent(record, task.monitor, ev, limits));
        if (ev.type === 'assistant' && text?.includes('tool ')) setTimeout(snapshot, 300).unref();
        // The turn is over: closing stdin lets claude exit on its own.
        if (ev.type === 'result') proc.closeStdin();
      }
    }
    record.updatedAt = at;
    void deps.save(task);
    task.notify();
  }

  void proc.exited.then((exit) => finalize(exit));
  }

  async function finalize(exit: ExitInfo, failure?: EndInfo): Promise<void> {
    if (task.terminating) await task.terminating;
    const stderr = task.proc?.stderrTail() ?? '';
    const outcome = failure ? { state: 'failed' as const, end: failure } : decideOutcome(record, task.stopReason, exit, stderr);
    // Ended in the middle of a text block: what claude had written of it is partial output too.
    if (task.writing?.tail) {
      record.lastText = task.writing.tail.slice(-2000);
      record.textTail = `${record.textTail ? `${record.textTail}\n` : ''}${task.writing.tail}`.slice(-8192);
    }
    // Nothing outlives its task: kill whatever the task started that is still around (start times checked).
    if (record.process) killRecorded(record.process.procs, 'SIGKILL');
    record.state = outcome.state;
    record.end = outcome.end;
    record.endedAt = Date.now();
    record.updatedAt = record.endedAt;
    await task.eventLog?.close();
    if (task.eventLog?.error) task.storeError = `event log: ${task.eventLog.error}`;
    await deps.save(task, true);
    await deps.store.clearActive(record.id);
    deps.log.info({ task: record.id, state: record.state, reason: record.end.reason, exit }, 'task ended');
    deps.audit.write('task_ended', { task_id: record.id, state: record.state, reason: record.end.reason, message: record.end.message, cost_usd: record.stats.costUsd, turns: record.stats.turns, tool_calls: record.stats.toolCalls });
    const breakerKey = `${req.tier}:${req.model}`;
    const status = record.result?.apiErrorStatus;
    if (record.result && !record.result.isError) deps.breakers.success(breakerKey);
    else if (record.result?.isError && status !== undefined && UPSTREAM_FAILURES.has(status)) deps.breakers.failure(breakerKey, record.end.message);
    task.markDone();
    deps.finished(task);
  }
}

// A partial-message text/JSON delta (with --include-partial-messages): frequent and repeated by the assistant event.
function isContentDelta(ev: Record<string, unknown>): boolean {
  return ev.type === 'stream_event' && (ev.event as { type?: unknown } | undefined)?.type === 'content_block_delta';
}
