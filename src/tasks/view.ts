import { parseEventLine } from '../claude/parse-line.js';
import { questionLine } from '../claude/decision-text.js';
import { DECISION_MAX_CHARS, decisionText, describeLogLine } from '../claude/summarize.js';
import { diffLink, eventsLink, type ResourceLink } from './event-links.js';
import type { LiveTask } from './live-task.js';
import { formatProgress } from './progress.js';
import type { TaskView } from '../shapes/task-view.js';
import type { TaskStore } from './store.js';
import { isFinal, type EventLine, type TaskRecord } from './types.js';

// The caller-facing status of a task (its shape lives in src/shapes).
export type { TaskView };

const fmtEvent = (e: EventLine): string => `#${e.seq} ${e.text}`;

// Where the events of a task that is not live here are read: its lines from sequence number `from` (1-based) and
// the last sequence number looked at (lines without text included).
export type EventReader = (id: string, from: number, limit: number) => Promise<{ lines: EventLine[]; last?: number }>;

// Events from the task's log on this disk, each rendered by the one describer.
export const diskEvents =
  (store: TaskStore): EventReader =>
  async (id, from, limit) => {
    const raw = await store.readEventLines(id, from, limit);
    const lines: EventLine[] = [];
    for (const { seq, line } of raw) {
      const text = describeLogLine(parseEventLine(line));
      if (text) lines.push({ seq, at: 0, text });
    }
    return { lines, last: raw.length ? raw[raw.length - 1]!.seq : undefined };
  };

// Events after `cursor` (or the last `tail`), from the in-memory ring when it reaches back far enough, else from
// the reader (the disk, or the shared stream of a task another server runs); every line reads the same.
export async function collectEvents(
  read: EventReader,
  record: Readonly<TaskRecord>,
  live: LiveTask | undefined,
  opts: { cursor?: number; tail: number },
): Promise<{ lines: string[]; cursor: number }> {
  const total = live ? live.seq : record.stats.events;
  const from = opts.cursor !== undefined ? opts.cursor + 1 : Math.max(1, total - opts.tail + 1);
  const limit = opts.cursor !== undefined ? 200 : opts.tail;
  const picked = live?.eventsFrom(from, limit);
  if (live && picked)
    return {
      lines: picked.map(fmtEvent),
      cursor: picked.length ? picked[picked.length - 1]!.seq : Math.max(opts.cursor ?? 0, live.seq),
    };
  const { lines, last } = await read(record.id, from, limit);
  return { lines: lines.map(fmtEvent), cursor: last ?? opts.cursor ?? total };
}

// Builds the view of one task; `now` makes elapsed times testable.
export async function taskView(
  read: EventReader,
  record: Readonly<TaskRecord>,
  live: LiveTask | undefined,
  opts: { cursor?: number; tail: number },
  now = Date.now(),
): Promise<TaskView> {
  const events = await collectEvents(read, record, live, opts);
  const last = record.tools[record.tools.length - 1];
  const end = record.endedAt ?? now;
  const view: TaskView = {
    task_id: record.id,
    state: record.state,
    final: isFinal(record.state),
    tier: record.request.tier,
    model: record.request.model,
    cwd: record.request.cwd,
    prompt_preview: record.request.prompt.replace(/\s+/g, ' ').slice(0, 120),
    created_at: new Date(record.createdAt).toISOString(),
    elapsed_s: Math.round((end - (record.startedAt ?? record.createdAt)) / 100) / 10,
    progress: formatProgress(record, end, live?.writing, live?.calling),
    turns: record.stats.turns,
    tool_calls: record.stats.toolCalls,
    last_text: record.lastText,
    cost_usd: record.stats.costUsd,
    tokens: { input: record.stats.inputTokens, output: record.stats.outputTokens },
    events: events.lines,
    cursor: events.cursor,
    permission_denials: record.permissionDenials,
  };
  if (last) view.last_tool = `${last.name}: ${last.summary}`;
  if (live?.writing && !isFinal(record.state))
    view.writing = { chars: live.writing.chars, text_tail: live.writing.tail.slice(-500) };
  if (record.sessionId) view.session_id = record.sessionId;
  if (record.state === 'needs_input' && record.inputRequest) {
    const q = record.inputRequest;
    view.input_request = { ...q, input_text: decisionText(q.tool, q.input, DECISION_MAX_CHARS) };
  }
  if (record.end) view.end = record.end;
  if (record.result) {
    const r = record.result;
    view.result = {
      text: r.text,
      subtype: r.subtype,
      is_error: r.isError,
      num_turns: r.numTurns,
      cost_usd: r.costUsd,
      duration_ms: r.durationMs,
    };
  }
  if (record.worktreeSummary) view.worktree = record.worktreeSummary;
  else if (record.worktree)
    view.worktree = {
      branch: record.worktree.branch,
      base_commit: record.worktree.baseCommit,
      path: record.worktree.cwdInWorktree,
    };
  if (record.result?.structuredOutput !== undefined) view.output = record.result.structuredOutput;
  if (record.request.continueTaskId) view.continue_of = record.request.continueTaskId;
  if (record.routed) view.routed = record.routed;
  if (record.fallbackModel) view.fallback_model = record.fallbackModel;
  if (record.refusal) view.refusal = true;
  if (record.stats.tokensPerSecond !== undefined) view.tokens_per_second = record.stats.tokensPerSecond;
  if (record.stats.peakRssMb !== undefined) view.peak_rss_mb = record.stats.peakRssMb;
  if (record.costSeries) view.cost_series = record.costSeries;
  if (live?.storeError) view.store_error = live.storeError;
  return view;
}

// One task as a tool result: its view as text and structured content, with a link to its event log.
export interface TaskReply {
  text: string;
  structured: TaskView;
  links: ResourceLink[];
  isError?: boolean;
}

// Builds the reply for one task (deep_task, task_status, kill_task, tasks/get).
export async function taskReply(
  read: EventReader,
  record: Readonly<TaskRecord>,
  live: LiveTask | undefined,
  opts: { cursor?: number; tail: number },
): Promise<TaskReply> {
  const view = await taskView(read, record, live, opts);
  const branch = record.worktreeSummary?.branch;
  return {
    text: viewText(view),
    structured: view,
    links: [eventsLink(record.id), ...(branch ? [diffLink(record.id, branch)] : [])],
  };
}

// The text block of a tool result: a few readable lines, the answer last.
export function viewText(v: TaskView): string {
  const lines = [`task ${v.task_id}: ${v.state} · ${v.progress}`];
  if (v.routed) lines.push(v.routed);
  if (v.fallback_model) lines.push(`fallback model used: ${v.fallback_model} (the primary model failed)`);
  if (v.end) lines.push(`${v.state === 'succeeded' ? 'done' : 'stopped'}: ${v.end.message}`);
  if (v.input_request) {
    const q = v.input_request;
    // A view made by an older server (a cluster mid-upgrade) has no input_text: questionLine renders it the same way.
    const denied = `it will be denied at ${q.expires_at} if nobody answers`;
    lines.push(`needs input: permission for ${questionLine(q)}; ${denied}`);
    lines.push(
      `answer: answer_task {"task_id":"${v.task_id}","request_id":"${q.request_id}","decision":"allow"} (or ` +
        `"deny" with a message)`,
    );
  }
  if (v.refusal) lines.push('flag: the final answer reads as a refusal');
  if (v.worktree) {
    const stat = v.worktree.diffstat ? ` · ${v.worktree.diffstat.split('\n').pop()?.trim()}` : '';
    lines.push(
      v.worktree.branch ? `worktree: branch ${v.worktree.branch}${stat}` : 'worktree: no changes (no branch kept)',
    );
  }
  for (const note of [v.worktree?.head_moved, ...(v.worktree?.warnings ?? [])])
    if (note) lines.push(`worktree warning: ${note}`);
  if (v.worktree?.not_committed?.length)
    lines.push(`worktree: not committed (nested repositories and the like): ${v.worktree.not_committed.join(', ')}`);
  if (v.permission_denials.length)
    lines.push(`permission denied: ${v.permission_denials.map((d) => `${d.tool} (${d.input})`).join(', ')}`);
  if (v.events.length) lines.push('recent events:', ...v.events.map((e) => `  ${e}`));
  if (v.output !== undefined) lines.push('', JSON.stringify(v.output));
  else if (v.result?.text) lines.push('', v.result.text);
  else if (v.last_text && v.final) lines.push('', `partial output: ${v.last_text}`);
  if (!v.final) lines.push('', `poll: task_status {"task_id":"${v.task_id}","wait_s":30,"cursor":${v.cursor}}`);
  return lines.join('\n');
}
