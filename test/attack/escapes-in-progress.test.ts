import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli, SERVER_ENTRY, serverEnv, textOf } from '../support/harness.js';
import { viewOf } from '../support/views.js';
import { useRepoServer } from './repo-server.js';

// A task's tool input reaches places that print it on a person's terminal: the progress line (MCP progress
// notifications, task_status's `progress`, now also from the input streamed in: StreamedCall) and the
// `claude-tiers tasks` table. summarizeToolInput collapses whitespace only: ESC and BEL pass, so a Bash command of
// the model's writes terminal control sequences there (clear the screen, retitle the window, OSC 52: set the
// clipboard of the person who lists the tasks). decisionText escapes the same characters for an approver.
// The model's own words (a text-only turn's progress) and the tool names it picks reach the same places.
const ctx = useRepoServer();
const ESC = '\u001b';
// C0 controls but tab and line feed, and DEL.
// eslint-disable-next-line no-control-regex -- control characters are exactly what this finds
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
// What may hide or reorder text on a terminal besides those: C1 controls, bidi overrides and isolates, zero widths.
const HIDING = /[\u0080-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

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

  it("the model's own text and a tool's name reach neither progress, run's terminal nor the table raw", async () => {
    // The model's words (lastText) show in the progress line when no tool was called: an OSC 52 clipboard write, a
    // right-to-left override and a zero width space in them.
    const said = `[[text:look ${ESC}]52;c;cm0gLXJmIH4K\u0007 here \u202egnp.exe\u200b]]`;
    // A tool name of the model's choosing (claude refuses the unknown tool; the call is in the record all the same).
    const named = `[[tool:Read${ESC}[2J${ESC}]0;owned\u0007:{"file_path":"/etc/hostname"}]]`;
    const notes: string[] = [];
    const views: Awaited<ReturnType<typeof ctx.final>>[] = [];
    for (const prompt of [said, named]) {
      const r = await ctx.server.client.callTool(
        { name: 'deep_task', arguments: { prompt, cwd: ctx.repo, wait_s: 60 } },
        { onprogress: (p) => void (p.message && notes.push(p.message)) },
      );
      expect(r.isError, textOf(r)).toBeFalsy();
      views.push(await ctx.final(viewOf(r).task_id));
    }
    // `claude-tiers run` writes its progress line to the terminal (stderr); the answer itself goes to stdout.
    const { env } = await serverEnv(ctx.api, { stateDir: ctx.server.stateDir, home: ctx.server.home });
    const run = await runCli(['run', said], { env, cwd: ctx.repo, timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);
    const table = execFileSync(process.execPath, [SERVER_ENTRY, 'tasks'], {
      env: { ...process.env, CLAUDE_TIERS_STATE_DIR: ctx.server.stateDir },
      encoding: 'utf8',
    });
    const progress = views.map((v) => v.progress ?? '');
    console.log(JSON.stringify({ notes, progress, stderr: run.stderr, table }));
    // The text is there, escaped: the line still says what the model wrote.
    expect(progress[0]).toContain('look \\u{1b}]52;c;');
    expect(progress[1]).toContain('Read\\u{1b}[2J');
    for (const text of [...notes, ...progress, run.stderr, table]) {
      expect(text).not.toMatch(CONTROL);
      expect(text).not.toMatch(HIDING);
    }
  }, 240_000);
});
