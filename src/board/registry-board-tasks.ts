import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import type { z } from 'zod';
import type { ToolDefinition } from '../../tools/define-tool.js';
import { toolsFor } from '../../tools/index.js';
import { ToolError, type Engine, type Viewer } from '../engine.js';
import { callTool, parseToolInput } from '../../tools/call-tool.js';
import { formatProgress } from '../tasks/progress.js';
import type { TaskRecord } from '../tasks/types.js';
import type {
  BoardActionResult,
  BoardChange,
  BoardFilter,
  BoardList,
  BoardRow,
  BoardTask,
  BoardTasks,
  ConflictFinder,
} from './board-tasks.js';
import { ChangeFeed } from './change-feed.js';
import { taskDiffFiles } from './task-diff.js';

type AnyTool = ToolDefinition<z.ZodType, z.ZodType | undefined>;

const LIST_LIMIT = 500;
const MAX_LOG = 1024 * 1024;
const TAIL = 200;
// A watcher gets at most one batch of changes per this many ms (a busy task's events are taken together).
const PACE_MS = 40;

// What the adapter needs besides the engine: the rate-limit key of a viewer (shared with its MCP calls) and, when
// the merge feature exists, who conflicts with whom.
export interface RegistryBoardOptions {
  rateKey(viewer: Viewer): string;
  conflicts?: ConflictFinder;
}

// A task record as one row of the board's list.
export function boardRow(r: Readonly<TaskRecord>, now = Date.now()): BoardRow {
  const last = r.tools[r.tools.length - 1];
  const end = r.endedAt ?? now;
  return {
    task_id: r.id,
    state: r.state,
    tier: r.request.tier,
    model: r.request.model,
    created_at: new Date(r.createdAt).toISOString(),
    elapsed_s: Math.max(0, Math.round((end - (r.startedAt ?? r.createdAt)) / 1000)),
    turns: r.stats.turns,
    cost_usd: r.stats.costUsd,
    ...(last ? { last_tool: `${last.name}: ${last.summary}` } : {}),
    cwd: r.request.cwd,
    ...((r.worktreeSummary?.branch ?? r.worktree?.branch)
      ? { branch: (r.worktreeSummary?.branch ?? r.worktree?.branch)! }
      : {}),
    prompt_preview: r.request.prompt.replace(/\s+/g, ' ').slice(0, 160),
    progress: formatProgress(r, end),
    needs_input: r.state === 'needs_input',
  };
}

const matches = (row: BoardRow, f: BoardFilter): boolean => {
  if (f.state?.length && !f.state.includes(row.state)) return false;
  if (f.tier && row.tier !== f.tier) return false;
  const q = f.text?.trim().toLowerCase();
  return (
    !q ||
    [row.task_id, row.prompt_preview, row.cwd, row.branch ?? '', row.model].some((s) => s.toLowerCase().includes(q))
  );
};

// The board's tasks over today's registry: reads go through registry.list/status/get (their tenancy checks), actions
// through the very tools (answer_task, kill_task, deep_task, merge_task when it exists) with the same parse and
// admission as an MCP call; live changes come from the registry's change notifications.
export class RegistryBoardTasks implements BoardTasks {
  private readonly tools: Map<string, AnyTool>;
  readonly feed: ChangeFeed;
  readonly merge?: BoardTasks['merge'];

  constructor(
    private readonly engine: Engine,
    private readonly options: RegistryBoardOptions,
  ) {
    this.tools = new Map((toolsFor(engine.config.limits) as AnyTool[]).map((t) => [t.name, t]));
    this.feed = new ChangeFeed((l) => engine.registry.watchAll(l));
    if (this.tools.has('merge_task'))
      this.merge = (viewer, id, strategy) => this.viaTool('merge_task', { task_id: id, strategy }, viewer);
  }

  async list(viewer: Viewer, filter: BoardFilter): Promise<BoardList> {
    const records = await this.engine.registry.list({ limit: LIST_LIMIT, viewer });
    const rows = records.map((r) => boardRow(r));
    const counts: BoardList['counts'] = {};
    for (const r of rows) counts[r.state] = (counts[r.state] ?? 0) + 1;
    return { counts, rows: rows.filter((r) => matches(r, filter)).slice(0, filter.limit ?? LIST_LIMIT) };
  }

  // Rows of these tasks as they stand, those the viewer may see (a change feed entry made into rows).
  rows(viewer: Viewer, ids: string[]): BoardRow[] {
    const out: BoardRow[] = [];
    for (const id of ids) {
      const rec = this.engine.registry.visible(id, viewer);
      if (rec) out.push(boardRow(rec));
    }
    return out;
  }

  async get(viewer: Viewer, id: string): Promise<BoardTask> {
    const { registry } = this.engine;
    const rec = await registry.get(id, viewer);
    const reply = await registry.status(id, { viewer, tail: TAIL });
    const task: BoardTask = {
      view: reply.structured,
      prompt: rec.request.prompt,
      principal: rec.principal ?? 'local',
    };
    const summary = rec.worktreeSummary;
    if (summary?.branch && summary.head_commit && rec.worktree) {
      task.diff = await taskDiffFiles(rec.worktree.repoRoot, summary.base_commit, summary.head_commit).catch(
        () => undefined,
      );
      if (!task.diff) task.diff_note = `the diff of ${summary.branch} cannot be read on this server`;
    } else if (rec.request.isolation === 'worktree')
      task.diff_note =
        rec.state === 'succeeded' || rec.state === 'failed'
          ? 'no changes'
          : 'the diff shows once the task ends (its work is committed then)';
    const conflicts = await this.options.conflicts?.(viewer, id).catch(() => undefined);
    if (conflicts) task.conflicts_with = conflicts;
    return task;
  }

  async follow(viewer: Viewer, id: string, cursor: number): Promise<BoardTask['view']> {
    return (await this.engine.registry.status(id, { viewer, cursor })).structured;
  }

  async rawLog(viewer: Viewer, id: string): Promise<string> {
    const { registry } = this.engine;
    const rec = await registry.get(id, viewer);
    const path = registry.eventsPath(id);
    if (!existsSync(path)) {
      if (rec.state === 'queued') return '';
      throw new ToolError(
        `the raw event log of task ${id} is kept by the server that ran it (on ${rec.owner.host ?? 'another machine'})`,
      );
    }
    const size = statSync(path).size;
    const from = Math.max(0, size - MAX_LOG);
    const buf = Buffer.alloc(size - from);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buf, 0, buf.length, from);
    } finally {
      closeSync(fd);
    }
    const text = buf.toString('utf8');
    return from > 0 ? text.slice(text.indexOf('\n') + 1) : text;
  }

  async *watch(viewer: Viewer, since: number | undefined, signal: AbortSignal): AsyncIterable<BoardChange> {
    const { feed } = this;
    feed.retain();
    try {
      let at = feed.seq;
      const missed = since === undefined ? undefined : feed.since(since);
      if (!missed) yield { seq: at, reset: true };
      else if (missed.length) yield { seq: at, ids: missed.filter((id) => this.engine.registry.visible(id, viewer)) };
      // Every wake is paced, one that finds none of the viewer's tasks too (another token's busy tasks would
      // otherwise wake this watcher, and scan the feed, at each change).
      let woke = 0;
      while (await feed.next(signal, at, woke + PACE_MS)) {
        woke = Date.now();
        const ids = feed.since(at);
        at = feed.seq;
        // More changes than the feed keeps came since the last wake: the whole list again, not a partial one.
        if (!ids) yield { seq: at, reset: true };
        else {
          const visible = ids.filter((id) => this.engine.registry.visible(id, viewer));
          if (visible.length) yield { seq: at, ids: visible };
        }
      }
    } finally {
      feed.release();
    }
  }

  answer(
    viewer: Viewer,
    id: string,
    requestId: string,
    decision: 'allow' | 'deny',
    message?: string,
  ): Promise<BoardActionResult> {
    return this.viaTool(
      'answer_task',
      { task_id: id, request_id: requestId, decision, ...(message ? { message } : {}) },
      viewer,
    );
  }

  kill(viewer: Viewer, id: string): Promise<BoardActionResult> {
    return this.viaTool('kill_task', { task_id: id, reason: 'the board' }, viewer);
  }

  start(viewer: Viewer, input: BoardActionInput): Promise<BoardActionResult> {
    const args: Record<string, unknown> = { prompt: input.prompt, wait_s: 0 };
    for (const k of ['tier', 'cwd', 'isolation', 'continue_task_id'] as const) if (input[k]) args[k] = input[k];
    return this.viaTool('deep_task', args, viewer);
  }

  // One action, through the tool that does it for MCP clients: the same input checks, admission and tenancy.
  private async viaTool(name: string, args: Record<string, unknown>, viewer: Viewer): Promise<BoardActionResult> {
    const tool = this.tools.get(name);
    if (!tool) return { ok: false, text: `this server has no ${name} tool` };
    const input = parseToolInput(tool, args);
    if (!input.ok) return { ok: false, text: input.message };
    try {
      const ctl = new AbortController();
      const r = await callTool(tool, input.data, this.engine, {
        signal: ctl.signal,
        clientId: `board:${viewer.principal}`,
        viewer,
        rateKey: this.options.rateKey(viewer),
      });
      return { ok: !r.isError, text: r.text, ...(r.structured ? { structured: r.structured } : {}) };
    } catch (err) {
      if (err instanceof ToolError) return { ok: false, text: err.message };
      throw err;
    }
  }
}

type BoardActionInput = Parameters<BoardTasks['start']>[1];
