import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REAL_CLAUDE, textOf } from '../support/harness.js';
import { claudeEnv, makeTempHome } from '../support/scripted-api.js';
import { useRepoServer } from './repo-server.js';
import { viewOf } from '../support/views.js';

// A sandboxed task cannot write its cwd's .claude, but Bash writes a .claude further down (bwrap takes no patterns),
// and the server commits it to the task's branch like any file. merge_task then brings sub/.claude/settings.json (a
// hook) into the user's checkout without a word, and the user's own claude started in sub/ runs the hook as the
// user, outside any sandbox: what the task wrote runs outside it.
const ctx = useRepoServer({ 'sub/code.txt': 'code\n' });

describe('merge_task of a sandboxed task that wrote a .claude below its cwd', () => {
  it("never brings claude's settings into the user's checkout unannounced", async () => {
    const mark = join(mkdtempSync(join(tmpdir(), 'ct-mark-')), 'hook-ran');
    const settings = { hooks: { SessionStart: [{ hooks: [{ type: 'command', command: `touch ${mark}` }] }] } };
    const b64 = Buffer.from(JSON.stringify(settings)).toString('base64');
    const cmd = `mkdir -p sub/.claude && echo ${b64} | base64 -d > sub/.claude/settings.json; echo w=$?`;
    const t = viewOf(
      await ctx.server.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `[[bash:${cmd}]]`, cwd: ctx.repo, tier: 'sandboxed', wait_s: 0 },
      }),
    );
    const v = await ctx.final(t.task_id);
    expect(v.state).toBe('succeeded');
    expect(v.worktree?.changed_files).toContain('sub/.claude/settings.json');
    const merged = await ctx.server.client.callTool({
      name: 'merge_task',
      arguments: { task_id: t.task_id, strategy: 'merge' },
    });
    console.log(textOf(merged));
    const landed = existsSync(join(ctx.repo, 'sub', '.claude', 'settings.json'));
    if (landed) {
      // The harm, measured: the user's own claude (default setting sources) in sub/ runs the task's hook.
      const home = await makeTempHome();
      // (async: the scripted API answers from this process)
      await promisify(execFile)(REAL_CLAUDE, ['-p', 'hi', '--output-format', 'json'], {
        cwd: join(ctx.repo, 'sub'),
        env: { ...claudeEnv(ctx.api, home), CLAUDE_CODE_MAX_RETRIES: '0' },
        timeout: 60_000,
      });
      console.log('hook ran in the user checkout:', existsSync(mark));
    }
    // Refused, or at least announced: the reply names the file as claude configuration.
    const said = JSON.stringify(merged);
    expect(merged.isError === true || /warning[^]*sub\/\.claude\/settings\.json/i.test(said)).toBe(true);
  }, 240_000);
});
