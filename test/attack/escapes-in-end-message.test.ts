import { describe, expect, it } from 'vitest';
import { runCli, serverEnv, textOf } from '../support/harness.js';
import { viewOf } from '../support/views.js';
import { useRepoServer } from './repo-server.js';

// The progress line and the tasks table escape the model's tool names now (formatProgress ends in shown()), but a
// task's end message is built from the same raw name: the loop monitor's "stopped: loop - NAME ..." takes
// record.tools[].name as the model wrote it. That message reaches `claude-tiers run`'s terminal through fail()
// (which only folds line breaks), the `stopped:` line of every task_status / deep_task text, and notifications.
const ctx = useRepoServer();
const ESC = '\u001b';
// eslint-disable-next-line no-control-regex -- control characters are exactly what this finds
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

describe("a tool name of the model's in a task's end message", () => {
  it("reaches neither run's terminal nor task_status text raw", async () => {
    // Five calls of one unknown tool with one input: the loop monitor stops the task (loopRepeats 5).
    const name = `Read${ESC}[2J${ESC}]0;owned\u0007`;
    const call = `[[tool:${name}:{"file_path":"/etc/hostname"}]]`;
    const prompt = call.repeat(6);
    const r = await ctx.server.client.callTool({
      name: 'deep_task',
      arguments: { prompt, cwd: ctx.repo, wait_s: 60 },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const v = await ctx.final(viewOf(r).task_id);
    const status = await ctx.server.client.callTool({
      name: 'task_status',
      arguments: { task_id: v.task_id },
    });
    const { env } = await serverEnv(ctx.api, { stateDir: ctx.server.stateDir, home: ctx.server.home });
    const run = await runCli(['run', prompt], { env, cwd: ctx.repo, timeoutMs: 180_000 });
    console.log(JSON.stringify({ end: v.end, status: textOf(status), stderr: run.stderr }));
    expect(v.end?.reason).toBe('loop');
    expect(run.code).toBe(1);
    expect(textOf(status)).not.toMatch(CONTROL);
    expect(run.stderr).not.toMatch(CONTROL);
  }, 400_000);
});
