import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildClaudeArgs } from '../../src/claude/args.js';
import type { PermissionRequest } from '../../src/claude/control.js';
import { ClaudeRun, type RunLine } from '../../src/claude/run.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { REAL_CLAUDE, processesMatching, sleep, uniqueSleep } from '../support/harness.js';
import { claudePerFile, runLimits } from '../support/per-file.js';

// ClaudeRun against the real claude: one outcome per run, the first stop wins, the control protocol both ways.
const f = claudePerFile();
const { table } = f;
const timings = { interruptWaitMs: 1000, killGraceMs: 1000 };

// A run of the comprehensive tier's flags (acceptEdits), optionally asking its host for permissions; Bash is not
// pre-allowed, so a command that acceptEdits does not cover needs a decision.
function newRun(extraArgs: string[] = []): ClaudeRun {
  const tier = {
    ...defaultConfig().tiers.comprehensive!,
    mcpConfig: null,
    partialMessages: false,
    allowedTools: ['Read'],
  };
  const args = [...buildClaudeArgs(tier, { mcpConfigPath: null }), ...extraArgs];
  return new ClaudeRun(
    { bin: REAL_CLAUDE, args, cwd: mkdtempSync(join(tmpdir(), 'ct-run-')), env: f.env(), maxLineBytes: 1 << 20 },
    table,
    timings,
  );
}

describe('ClaudeRun', () => {
  it('replays lines printed before anyone listened, and settles on the result', async () => {
    const run = newRun();
    await sleep(300);
    run.send('hello [[text:hi there]]', runLimits());
    const outcome = await run.outcome;
    expect(outcome.kind).toBe('result');
    if (outcome.kind === 'result') expect(outcome.result.result).toBe('hi there');
    const lines: RunLine[] = [];
    run.onLine((l) => lines.push(l));
    expect(lines.some((l) => l.kind === 'line' && l.parsed.kind === 'event' && l.parsed.event.type === 'result')).toBe(
      true,
    );
    await run.ended;
    expect(run.hasExited()).toBe(true);
  });

  it('the first stop reason wins, and the whole tree goes', async () => {
    const marker = uniqueSleep(120);
    const run = newRun();
    run.send(`[[bash:echo started; sleep ${marker}]]`, runLimits());
    const started = await new Promise<void>((resolve) =>
      run.onLine((l) => l.kind === 'line' && l.raw.includes('tool_use') && resolve()),
    );
    void started;
    await sleep(500);
    const first = run.stop({ reason: 'killed', message: 'first' });
    void run.stop({ reason: 'wall_timeout', message: 'second' });
    await first;
    const outcome = await run.outcome;
    expect(outcome).toEqual({ kind: 'stopped', stop: { reason: 'killed', message: 'first' } });
    await run.ended;
    expect(processesMatching(marker)).toEqual([]);
  });

  it('asks its host through can_use_tool: allow runs the command, deny reaches the model as the reason', async () => {
    const asked: PermissionRequest[] = [];
    // acceptEdits lets plain commands run; one with a network call needs approval (see claude-cli.md).
    const allowRun = newRun(['--permission-prompt-tool=stdio']);
    allowRun.onPermission(async (req) => {
      asked.push(req);
      return { behavior: 'allow' };
    });
    allowRun.send('[[bash:curl -s http://127.0.0.1:9/; echo ALLOWED_RAN]]', runLimits());
    const allowed = await allowRun.outcome;
    expect(asked.map((a) => a.toolName)).toEqual(['Bash']);
    expect(JSON.stringify(asked[0]!.input)).toContain('ALLOWED_RAN');
    expect(allowed.kind === 'result' && allowed.result.result).toMatch(/ALLOWED_RAN/);

    const denyRun = newRun(['--permission-prompt-tool=stdio']);
    denyRun.onPermission(async () => ({ behavior: 'deny', message: 'the operator says no: DENIED_BY_HOST' }));
    denyRun.send('[[bash:curl -s http://127.0.0.1:9/; echo NEVER_RAN]]', runLimits());
    const denied = await denyRun.outcome;
    expect(denied.kind).toBe('result');
    const toolResults = f.api.requests
      .map((r) => JSON.stringify(r.messages))
      .filter((t) => t.includes('DENIED_BY_HOST') && t.includes('tool_result'));
    expect(toolResults.length).toBeGreaterThan(0);
    await Promise.all([allowRun.ended, denyRun.ended]);
  });
});
