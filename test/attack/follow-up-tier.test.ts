import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RepoLocks } from '../../src/isolation/repo-locks.js';
import { finishWorktree, prepareWorktree } from '../../src/isolation/worktree.js';
import { textOf } from '../support/harness.js';
import { gitIn, useRepoServer } from './repo-server.js';
import { viewOf } from '../support/views.js';

// A follow-up (continue_task_id) picks its own tier. A comprehensive task kept its linked worktree (keep_worktree);
// a sandboxed follow-up of it (say, with a prompt nobody trusts) reuses that folder as if it were a clone of its own,
// so it runs in a linked worktree of the user's repository, whose git common dir claude's sandbox binds writable
// (issue 19 item 2): the sandboxed task moves the user's main and adds tags.
const ctx = useRepoServer();

describe('a sandboxed follow-up of a kept, unsandboxed worktree', () => {
  it("changes nothing in the user's repository but its own branch", async () => {
    const main = gitIn(ctx.repo, 'rev-parse', 'main');
    // The scripted API picks replies from the conversation's first prompt: the same Bash step each turn, which does
    // its harm only inside the sandbox (the sandboxed tier sets IS_SANDBOX=1), so only the follow-up does it.
    const evil = [
      'if [ "$IS_SANDBOX" = 1 ]; then git tag planted-by-sandbox 2>&1; echo tag=$?',
      'git update-ref refs/heads/main HEAD 2>&1; echo main=$?',
      // Outside the sandbox (the first task) a commit on the task's branch, for main to be moved onto.
      'else echo one >> one.txt; git add one.txt; git -c user.name=a -c user.email=a@b commit -qm one; fi',
      'git rev-parse --git-common-dir; echo sandbox=$IS_SANDBOX',
    ].join('; ');
    const first = viewOf(
      await ctx.server.client.callTool({
        name: 'deep_task',
        arguments: {
          prompt: `[[repeat-bash:${evil}]]`,
          max_turns: 2,
          cwd: ctx.repo,
          tier: 'comprehensive',
          isolation: 'worktree',
          keep_worktree: true,
          wait_s: 0,
        },
      }),
    );
    const a = await ctx.final(first.task_id);
    expect(a.final).toBe(true);
    expect(a.worktree?.changed_files).toContain('one.txt');
    const asked = await ctx.server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: 'go on', continue_task_id: a.task_id, tier: 'sandboxed', max_turns: 2, wait_s: 0 },
    });
    // Refused, naming the tier; or run, and then it changed nothing of the user's.
    if (asked.isError) expect(textOf(asked)).toMatch(/^tier: .*keep_worktree/);
    else expect((await ctx.final(viewOf(asked).task_id)).final).toBe(true);
    expect({ tags: gitIn(ctx.repo, 'tag', '--list'), main: gitIn(ctx.repo, 'rev-parse', 'main') }).toEqual({
      tags: '',
      main,
    });
  }, 240_000);

  it('a sandboxed run never takes a kept linked worktree for its clone (prepareWorktree)', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ct-state-'));
    const locks = new RepoLocks();
    const first = await prepareWorktree({ cwd: ctx.repo, taskId: 't_kept', stateDir }, { locks });
    await finishWorktree(first, { keep: true }, { locks });
    gitIn(first.path, '-c', 'user.name=a', '-c', 'user.email=a@b', 'commit', '-q', '--allow-empty', '-m', 'x');
    const again = {
      cwd: ctx.repo,
      taskId: 't_next',
      stateDir,
      continueTaskId: 't_kept',
      dirName: 't_kept',
      clone: true,
    };
    await expect(prepareWorktree(again, { locks })).rejects.toThrow(/not a clone/);
  });
});
