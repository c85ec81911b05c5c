import { hostname } from 'node:os';
import { shown } from '../claude/decision-text.js';
import { ToolError } from '../errors.js';
import {
  conflictsBetween,
  mergeBack,
  type MergeBackOutcome,
  type MergeStrategy,
  type ToolConfigFile,
} from '../isolation/merge-back.js';
import type { RepoLocks } from '../isolation/repo-locks.js';
import { isFinal, type TaskRecord } from './types.js';

// What merge_task replies: the outcome in words (isError when nothing was merged) and as structured content.
export interface MergeReply {
  text: string;
  structured: Record<string, unknown>;
  isError?: boolean;
}

// merge_task for one task: its branch goes into a branch of the task's repository (see mergeBack for what may move).
// Only a finished task of this machine, whose branch holds work, can be merged.
export async function mergeTask(
  rec: TaskRecord,
  opts: { strategy: MergeStrategy; into?: string; allowToolConfig?: boolean },
  locks: RepoLocks,
): Promise<{ reply: MergeReply; outcome: MergeBackOutcome }> {
  const wt = rec.worktree;
  if (!wt)
    throw new ToolError(
      `task_id: task ${rec.id} did not run in a worktree (isolation "worktree"); it has no branch to merge`,
    );
  if (!isFinal(rec.state)) {
    throw new ToolError(
      `task_id: task ${rec.id} is ${rec.state}; merge it once it has ended (task_status with wait_s, or kill_task)`,
    );
  }
  if (rec.worktreeSummary && rec.worktreeSummary.branch === null) {
    throw new ToolError(`task_id: task ${rec.id} changed no file; there is nothing to merge`);
  }
  if (rec.owner.host && rec.owner.host !== hostname()) {
    throw new ToolError(
      `task_id: task ${rec.id} ran on ${rec.owner.host}; its branch is in a repository there: merge it from ` +
        `that machine`,
    );
  }
  const verb = opts.strategy === 'squash' ? 'squash' : 'merge';
  const message = `claude-tiers: ${verb} task ${rec.id}\n\n${firstLine(rec)}`;
  const outcome = await mergeBack(
    {
      repoRoot: wt.repoRoot,
      gitDir: wt.gitDir,
      branch: wt.branch,
      strategy: opts.strategy,
      into: opts.into,
      message,
      allowToolConfig: opts.allowToolConfig,
    },
    locks,
  );
  return { reply: render(rec.id, wt.branch, outcome), outcome };
}

const firstLine = (rec: TaskRecord): string => {
  const line = (rec.request.prompt ?? '').split('\n').find((l) => l.trim()) ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
};

function render(id: string, branch: string, o: MergeBackOutcome): MergeReply {
  const structured = { task_id: id, branch, ...o } as Record<string, unknown>;
  if (o.merged) {
    const n = o.files.length;
    const how =
      o.moved === 'worktree' ? `; ${o.into} is checked out at ${o.worktree}, and its files were brought along` : '';
    const warn = o.tool_config?.length
      ? `; warning: it brought in tool configuration, which now configures your tools: ${listed(o.tool_config)}`
      : '';
    return {
      text:
        `merged task ${id} (${branch}) into ${o.into} ` +
        `as ${o.strategy === 'squash' ? 'one squashed commit' : 'a merge commit'} ${o.commit.slice(0, 12)} ` +
        `(${n} file${n === 1 ? '' : 's'}: ${names(o.files.slice(0, 20))}${n > 20 ? ', …' : ''})${how}${warn}`,
      structured,
    };
  }
  const fail = (text: string): MergeReply => ({ text, structured, isError: true });
  switch (o.reason) {
    case 'up_to_date':
      return {
        text: `task ${id}'s branch ${branch} is already in ${o.into} (${o.commit.slice(0, 12)}); nothing to merge`,
        structured,
      };
    case 'conflict':
      return fail(
        `merge_task: ${branch} conflicts with ${o.into} in ${names(o.conflicts)}; nothing was changed. ` +
          `Continue the task (deep_task with continue_task_id) to resolve them on its branch, or merge it by ` +
          `hand (git merge ${branch})`,
      );
    case 'dirty':
      return fail(
        `merge_task: ${o.into} is checked out at ${o.worktree} with uncommitted changes the merge would ` +
          `touch: ${names(o.dirty)}; nothing was changed. Commit or stash them, or merge into another ` +
          `branch (into)`,
      );
    case 'tool_config':
      return fail(
        `merge_task: ${branch} adds or changes tool configuration, which your tools would run commands from (as ` +
          `you, outside any sandbox): ${listed(o.tool_config)}; nothing was changed. Read those files ` +
          `(git diff ${o.into}...${branch}); to merge them anyway, call merge_task again with allow_tool_config: true`,
      );
    case 'moved':
      return fail(
        `merge_task: ${o.into} moved while the merge was worked out; nothing was changed. Call merge_task again`,
      );
  }
}

// File names as git gives them (-z: any byte but '/' and NUL) are a task's text: shown escaped in the reply's words;
// the structured content keeps them as they are.
const names = (paths: string[]): string => paths.map(shown).join(', ');
const listed = (files: ToolConfigFile[]): string => files.map((f) => `${shown(f.path)} (${f.reason})`).join(', ');

const MAX_COMPARED = 20;

// The tasks (among `others`, the caller's) whose branches would conflict with this task's if both were merged: ended
// tasks with a branch, on the same repository and base commit. Shown on the board before either is merged.
export async function conflictingTasks(rec: TaskRecord, others: TaskRecord[]): Promise<string[]> {
  const branchOf = (r: TaskRecord) => (isFinal(r.state) && r.worktree && r.worktreeSummary?.branch) || undefined;
  const mine = branchOf(rec);
  if (!mine || !rec.worktree) return [];
  const { repoRoot, baseCommit } = rec.worktree;
  const peers = others.filter(
    (o) => o.id !== rec.id && branchOf(o) && o.worktree?.repoRoot === repoRoot && o.worktree.baseCommit === baseCommit,
  );
  const out: string[] = [];
  for (const peer of peers.slice(0, MAX_COMPARED)) {
    const files = await conflictsBetween(repoRoot, mine, branchOf(peer)!).catch(() => []);
    if (files.length) out.push(peer.id);
  }
  return out;
}
