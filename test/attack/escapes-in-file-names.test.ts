import { describe, expect, it } from 'vitest';
import { runCli, serverEnv, textOf } from '../support/harness.js';
import { viewOf } from '../support/views.js';
import { useRepoServer } from './repo-server.js';

// A task in a worktree names its files: any byte but '/' and NUL, ESC and BEL included. The server lists them from
// git's -z output (merge-back.ts: diff --name-only -z, merge-tree -z) and prints them as they are: merge_task's text
// and `claude-tiers merge` on the user's terminal ("merged ... (1 file: NAME)"), where an OSC 52 sets the clipboard
// and a CR plus erase-line rewrites what the user reads about the merge.
const ctx = useRepoServer();
// eslint-disable-next-line no-control-regex -- control characters are exactly what this finds
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

describe("a file name of the task's in what merge prints", () => {
  it('reaches neither merge_task text nor the terminal of `claude-tiers merge` raw', async () => {
    const cmd = `printf x > "$(printf 'a\\033]0;owned\\007.txt')"; echo made=$?`;
    const r = await ctx.server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:${cmd}]]`, cwd: ctx.repo, isolation: 'worktree', wait_s: 0 },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const v = await ctx.final(viewOf(r).task_id);
    const status = textOf(await ctx.server.client.callTool({ name: 'task_status', arguments: { task_id: v.task_id } }));
    const { env } = await serverEnv(ctx.api, { stateDir: ctx.server.stateDir, home: ctx.server.home });
    const merge = await runCli(['merge', v.task_id], { env, cwd: ctx.repo, timeoutMs: 120_000 });
    console.log(JSON.stringify({ state: v.state, last: v.last_text, status, merge }));
    expect(v.last_text).toMatch(/made=0/);
    expect(merge.stdout + merge.stderr).toContain('owned');
    expect(status).not.toMatch(CONTROL);
    expect(merge.stdout).not.toMatch(CONTROL);
    expect(merge.stderr).not.toMatch(CONTROL);
  }, 300_000);
});
