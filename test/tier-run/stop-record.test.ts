import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildClaudeArgs } from '../../src/claude/args.js';
import { ClaudeRun } from '../../src/claude/run.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { EndInfoSchema } from '../../src/shapes/task-record.js';
import { LiveTask } from '../../src/tasks/live-task.js';
import type { TaskRecord } from '../../src/tasks/types.js';
import { REAL_CLAUDE, startServer, textOf } from '../support/harness.js';
import { viewOf } from '../support/views.js';
import { claudePerFile } from '../support/per-file.js';
import { taskRecord } from '../support/records.js';

// Review finding: a task's stop record took a run's stop reason as it was; a run-only reason (closed: the runner let
// its run go) wrote a record its schema refuses, which then read back as "unreadable record".
const f = claudePerFile();

const record = (): TaskRecord => taskRecord({ id: 't_stoprec0000' });

function newRun(): ClaudeRun {
  const tier = { ...defaultConfig().tiers.comprehensive!, mcpConfig: null, partialMessages: false };
  const args = buildClaudeArgs(tier, { mcpConfigPath: null });
  return new ClaudeRun(
    { bin: REAL_CLAUDE, args, cwd: mkdtempSync(join(tmpdir(), 'ct-stoprec-')), env: f.env(), maxLineBytes: 1 << 20 },
    f.table,
    { interruptWaitMs: 1000, killGraceMs: 1000 },
  );
}

describe("a task's stop record", () => {
  it('is one the record schema accepts, when its run was let go with a run-only reason', async () => {
    const task = new LiveTask(record(), 10);
    const run = newRun();
    task.attach(run);
    await run.close({ reason: 'closed', message: 'task ended' });
    const outcome = await run.outcome;
    expect(outcome.kind).toBe('stopped');
    const stop = task.stopped;
    expect(stop).toBeDefined();
    expect(EndInfoSchema.safeParse(stop).success, JSON.stringify(stop)).toBe(true);
    expect(stop!.reason).toBe('error');
    expect(stop!.message).toContain('task ended');
    task.markDone();
    // Kept after the run is let go, the same words.
    expect(task.stopped).toEqual(stop);
  });

  it('keeps a reason the record knows as it is', async () => {
    const task = new LiveTask(record(), 10);
    const run = newRun();
    task.attach(run);
    await task.stop({ reason: 'killed', message: 'by the test', by: 'test' });
    await run.ended;
    expect(task.stopped).toEqual({ reason: 'killed', message: 'by the test', by: 'test' });
  });
});

describe('a task whose run could not start', () => {
  it('ends failed with spawn_failed, its one stop record (isolated in a worktree)', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'ct-stoprec-repo-'));
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'README'), 'base\n');
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-qm', 'base');
    // A context file there at start-up (checked then) and gone when the task runs: its run files cannot be made.
    const dir = mkdtempSync(join(tmpdir(), 'ct-stoprec-cfg-'));
    const context = join(dir, 'context.md');
    writeFileSync(context, 'context\n');
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({ allowedRoots: [repo], tiers: { comprehensive: { mcpConfig: null, contextFiles: [context] } } }),
    );
    const s = await startServer(f.api, { cwd: repo, env: { CLAUDE_TIERS_CONFIG: config } });
    try {
      rmSync(context);
      const r = await s.client.callTool({
        name: 'deep_task',
        arguments: { prompt: '[[text:never]]', cwd: repo, isolation: 'worktree', wait_s: 30 },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      let v = viewOf(r);
      for (const end = Date.now() + 60_000; !v.final && Date.now() < end;)
        v = viewOf(await s.client.callTool({ name: 'task_status', arguments: { task_id: v.task_id, wait_s: 10 } }));
      expect(v.state).toBe('failed');
      expect(v.end?.reason).toBe('spawn_failed');
      expect(v.end?.message).toMatch(/context file .*context\.md cannot be read/);
    } finally {
      await s.close();
    }
  });
});
