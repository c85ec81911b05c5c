import type { AuditLog } from '../audit.js';
import { isSystem, type ClaudeEvent, type StreamEvent } from '../claude/events.js';
import type { RunLine } from '../claude/run.js';
import { describeLogLine, INVALID_LINE, OVERSIZED_LINE } from '../claude/summarize.js';
import type { Logger } from '../log.js';
import { applyEvent } from './apply-event.js';
import type { LiveTask } from './live-task.js';
import { checkEvent, checkOutput, isRefusal, type MonitorLimits, type MonitorState } from './monitors.js';
import type { EventLog } from './store.js';
import type { EndInfo } from './types.js';

// What handling a task's lines needs: where they go and who is told.
export interface LineContext {
  task: LiveTask;
  eventLog: EventLog;
  limits: MonitorLimits;
  monitor: MonitorState;
  audit: AuditLog;
  log: Logger;
  stop(reason: EndInfo): void;
  save(): void;
  /** A tool call started: its processes are worth noting soon. */
  toolStarted(): void;
}

// A partial-message text/JSON delta (with --include-partial-messages): frequent and repeated by the assistant event.
function isContentDelta(ev: ClaudeEvent): ev is StreamEvent {
  return ev.type === 'stream_event' && ev.event.type === 'content_block_delta';
}

// Output we could not keep as is goes to the log as a line of our own, described like any other.
function logOwnLine(ctx: LineContext, value: Record<string, unknown>, at: number): void {
  ctx.eventLog.append(JSON.stringify(value));
  ctx.task.pushEvent(describeLogLine({ kind: 'unknown', type: String(value.type), raw: value }), at);
  ctx.task.update((r) => (r.stats.events = ctx.task.seq), at);
  ctx.save();
  ctx.task.notify();
}

const stopIf = (ctx: LineContext, reason: EndInfo | undefined) => reason && ctx.stop(reason);

// Handles one line of a task's run: logs it as it arrives, folds it into the record, describes it once, checks the
// monitors.
export function handleTaskLine(line: RunLine, ctx: LineContext): void {
  const { task } = ctx;
  if (line.kind === 'oversized') {
    stopIf(ctx, checkOutput(ctx.monitor, line.bytes, ctx.limits));
    return logOwnLine(ctx, { type: OVERSIZED_LINE, bytes: line.bytes, preview: line.preview }, line.at);
  }
  const { parsed, at } = line;
  stopIf(ctx, checkOutput(ctx.monitor, Buffer.byteLength(line.raw) + 1, ctx.limits));
  // A tool call whose input streamed in whole is shown at once, not when claude prints its assistant event.
  const called = parsed.kind === 'event' && parsed.event.type === 'stream_event' && task.noteStream(parsed.event);
  if (parsed.kind === 'event' && isContentDelta(parsed.event)) {
    // Partial text of the block being written: shown live, kept if the task ends mid-block; the whole block follows
    // as an assistant event, so deltas are neither logged nor numbered.
    if (task.noteDelta(parsed.event) || called) task.notify();
    return;
  }
  if (parsed.kind === 'invalid') {
    ctx.log.warn(
      { task: task.id, reason: parsed.reason, preview: parsed.preview.slice(0, 120) },
      'claude printed an unreadable line',
    );
    return logOwnLine(ctx, { type: INVALID_LINE, reason: parsed.reason, preview: parsed.preview }, at);
  }
  ctx.eventLog.append(line.raw);
  task.pushEvent(describeLogLine(parsed), at);
  const record = task.record;
  const toolsBefore = record.stats.toolCalls;
  task.update((r) => {
    if (parsed.kind === 'event') applyEvent(r, parsed.event, at);
    r.stats.events = task.seq;
    r.stats.lastEventAt = at;
    r.stats.firstEventAt ??= at;
    const elapsedS = (at - (r.startedAt ?? at)) / 1000;
    if (elapsedS > 0) r.stats.tokensPerSecond = Math.round((r.stats.outputTokens / elapsedS) * 10) / 10;
    if (parsed.kind === 'event' && parsed.event.type === 'result') {
      (r.costSeries ??= []).push([Math.round(elapsedS * 1000), r.stats.costUsd]);
      if (r.result && !r.result.isError && isRefusal(r.result.text)) r.refusal = true;
    }
  }, at);
  const newTools = record.stats.toolCalls - toolsBefore;
  for (const t of record.tools.slice(record.tools.length - newTools))
    ctx.audit.write('tool_call', { task_id: task.id, tool: t.name, input: t.summary });
  if (parsed.kind === 'event') {
    const ev = parsed.event;
    if (ev.type === 'assistant') task.endWriting(ev);
    if (isSystem(ev, 'api_retry')) task.retrying();
    // A result ends the turn anyway; claude's own reason (max turns, budget) stays the one reported.
    if (ev.type !== 'result') stopIf(ctx, checkEvent(record, ctx.monitor, ev, ctx.limits));
    if (newTools > 0) ctx.toolStarted();
  }
  ctx.save();
  task.notify();
}
