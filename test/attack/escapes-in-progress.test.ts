import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SERVER_ENTRY, textOf } from '../support/harness.js';
import { viewOf } from '../support/views.js';
import { useRepoServer } from './repo-server.js';

// A task's tool input reaches places that print it on a person's terminal: the progress line (MCP progress
// notifications, task_status's `progress`, now also from the input streamed in: StreamedCall) and the
// `claude-tiers tasks` table. summarizeToolInput collapses whitespace only: ESC and BEL pass, so a Bash command of
// the model's writes terminal control sequences there (clear the screen, retitle the window, OSC 52: set the
// clipboard of the person who lists the tasks). decisionText escapes the same characters for an approver.
const ctx = useRepoServer();
const ESC = '\u001b';
// C0 controls but tab and line feed, and DEL.
// eslint-disable-next-line no-control-regex -- control characters are exactly what this finds
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

describe('terminal control characters in a tool call', () => {
  it('reach neither the progress line nor the tasks table raw', async () => {
    // JSON in the marker: the model's input holds the raw ESC and BEL characters.
    const input = JSON.stringify({ command: `echo hi # ${ESC}]52;c;cm0gLXJmIH4K\u0007${ESC}[2J` });
    const notes: string[] = [];
    const r = await ctx.server.client.callTool(
      { name: 'deep_task', arguments: { prompt: `[[tool:Bash:${input}]]`, cwd: ctx.repo, wait_s: 60 } },
      { onprogress: (p) => void (p.message && notes.push(p.message)) },
    );
    expect(r.isError, textOf(r)).toBeFalsy();
    const v = await ctx.final(viewOf(r).task_id);
    const table = execFileSync(process.execPath, [SERVER_ENTRY, 'tasks'], {
      env: { ...process.env, CLAUDE_TIERS_STATE_DIR: ctx.server.stateDir },
      encoding: 'utf8',
    });
    console.log(JSON.stringify({ notes, progress: v.progress, table }));
    for (const text of [...notes, v.progress ?? '', table]) expect(text).not.toMatch(CONTROL);
  }, 240_000);
});
