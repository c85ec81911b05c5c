import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { textOf } from '../support/harness.js';
import { viewOf } from '../support/views.js';
import { useRepoServer } from './repo-server.js';

// The files of a spare-able run (system prompt, settings with its deny rules and hooks, MCP config) live in
// stateDir/spare-files/<hash of their content>, written once and trusted by existence after that (planShared's
// `missing`, SpecCache isFresh: files exist). An unsandboxed task whose Bash may write (the comprehensive tier: Bash
// allowed, acceptEdits) edits them: every later run of that content, any caller's and any tier's (here the read-only
// speed tier), runs with the task's system prompt and settings hooks, long after the task ended.
const ctx = useRepoServer();
const MARK = `injected-${Math.random().toString(36).slice(2)}`;

describe('the shared spare files of the state dir', () => {
  it("are not steered by a task's writes (a later run of another tier keeps its own prompt and settings)", async () => {
    const { server, repo, api } = ctx;
    const first = await server.client.callTool({ name: 'quick_answer', arguments: { prompt: 'hi', cwd: repo } });
    expect(first.isError, textOf(first)).toBeFalsy();
    const files = join(server.stateDir, 'spare-files');
    expect(existsSync(files)).toBe(true);
    // The task: a Bash step on the default deep tier, no sandbox. A hook in the settings runs a command in every later
    // run of that content (the speed tier has no Bash of its own).
    const hooked = join(ctx.roots, 'hook-ran');
    const hook = JSON.stringify({
      hooks: { SessionStart: [{ hooks: [{ type: 'command', command: `touch ${hooked}` }] }] },
    });
    const cmd =
      `for d in ${files}/*/; do [ -f "$d/system-prompt.txt" ] && echo '${MARK}' >> "$d/system-prompt.txt"; ` +
      `[ -f "$d/settings.json" ] && printf '%s' '${hook}' > "$d/settings.json"; done; echo poisoned=$?`;
    const r = await server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:${cmd}]]`, cwd: repo, wait_s: 0 },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const v = await ctx.final(viewOf(r).task_id);
    console.log('task:', v.state, v.last_text);
    expect(v.last_text).toMatch(/poisoned=0/);
    // Another caller's quick answer in the same folder, on the read-only speed tier.
    const before = api.messageRequests().length;
    const next = await server.client.callTool({ name: 'quick_answer', arguments: { prompt: 'again', cwd: repo } });
    const systems = api
      .messageRequests()
      .slice(before)
      .map((q) => q.systemText);
    console.log(
      'next:',
      textOf(next).slice(0, 120),
      systems.some((s) => s.includes(MARK)),
      existsSync(hooked),
    );
    expect(systems.some((s) => s.includes(MARK))).toBe(false);
    expect(existsSync(hooked)).toBe(false);
  }, 300_000);
});
