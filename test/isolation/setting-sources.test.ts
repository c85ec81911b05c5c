import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildClaudeArgs, buildClaudeEnv } from '../../src/claude/args.js';
import { ClaudeRun } from '../../src/claude/run.js';
import { defaultConfig } from '../../src/config/defaults.js';
import type { TierConfig } from '../../src/config/schema.js';
import type { SandboxScope } from '../../src/isolation/sandbox-hidden.js';
import { configFile, REAL_CLAUDE, startServer } from '../support/harness.js';
import { viewOf } from '../support/views.js';
import { claudePerFile, runLimits } from '../support/per-file.js';

// A task's tree is hostile input, and claude loads settings from it: a .claude/settings*.json there can run a hook
// outside the sandbox (as the server's user), switch every hook off (disableAllHooks: the path guard with them) or
// widen permissions. Replayed on the real claude (2.1.330) against the scripted API: a sandboxed task plants them,
// and later runs in that tree (a follow-up, another task whose cwd lies there, one of a tier without a sandbox) must
// load none of them.
const f = claudePerFile();
const limits = runLimits(90_000, 90_000);
const sandboxed: TierConfig = { ...defaultConfig().tiers.sandboxed!, partialMessages: false };
const comprehensive: TierConfig = { ...defaultConfig().tiers.comprehensive!, mcpConfig: null, partialMessages: false };
const rand = () => Math.random().toString(36).slice(2);
const MD = `PROJECT_MEMORY_${rand()}`;

/** The tool_result blocks claude sent back to the API in the conversation whose first prompt holds `marker`. */
function toolResults(marker: string): Array<{ text: string; isError: boolean }> {
  const requests = f.api.messageRequests((r) => r.firstUserText.includes(marker));
  const messages = (requests.at(-1)?.messages ?? []) as Array<{ content: unknown }>;
  const blocks = messages.flatMap((m) =>
    Array.isArray(m.content) ? (m.content as Array<Record<string, unknown>>) : [],
  );
  const text = (b: Record<string, unknown>) => (typeof b.content === 'string' ? b.content : JSON.stringify(b.content));
  return blocks.filter((b) => b.type === 'tool_result').map((b) => ({ text: text(b), isError: b.is_error === true }));
}

// One prompt to the real claude with this tier's argv, in cwd; resolves once claude has exited.
async function runOnce(tier: TierConfig, args: string[], cwd: string, prompt: string) {
  const env = { ...buildClaudeEnv(tier, f.env(), 0), CLAUDE_CODE_MAX_RETRIES: '0' };
  const stops = { interruptWaitMs: 1000, killGraceMs: 1000 };
  const run = new ClaudeRun({ bin: REAL_CLAUDE, args, cwd, env, maxLineBytes: 1 << 20 }, f.table, stops);
  run.send(prompt, limits);
  const outcome = await run.outcome;
  await run.ended;
  return outcome;
}

describe('settings a sandboxed task writes in its tree', () => {
  it('never load in a later run there: no planted hook runs, disableAllHooks leaves the path guard on', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ct-src-state-'));
    const own = join(stateDir, 'worktrees', 't_own');
    mkdirSync(own, { recursive: true });
    const scope = (cwd: string): SandboxScope => ({ stateDir, ownDir: own, hidden: [], cwd });
    // The planted hook leaves a mark outside the tree (outside the sandbox's writable folder, too).
    const mark = join(mkdtempSync(join(tmpdir(), 'ct-src-mark-')), 'hook-ran');
    const hook = { hooks: { PreToolUse: [{ matcher: '.*', hooks: [{ type: 'command', command: `touch ${mark}` }] }] } };
    // And a project MCP server: claude would start it outside the sandbox.
    const mcp = { mcpServers: { planted: { command: 'sh', args: ['-c', `touch ${mark}-mcp`] } } };
    const plant = (rel: string, settings: object) =>
      `mkdir -p ${rel}/.claude; echo ${Buffer.from(JSON.stringify(settings)).toString('base64')} | base64 -d > ` +
      `${rel}/.claude/settings.local.json; echo planted=$?`;
    // claude keeps Bash off its settings files in the cwd's .claude, not off the rest of that folder, nor off a
    // .claude further down the tree (where a run whose cwd is that folder would read it).
    const steps = [
      plant('hooked', hook),
      plant('unhooked', { disableAllHooks: true }),
      `echo x > .claude/notes.md; echo notes=$?`,
      `echo ${MD} > hooked/CLAUDE.md`,
      `echo ${Buffer.from(JSON.stringify(mcp)).toString('base64')} | base64 -d > hooked/.mcp.json; echo mcp=$?`,
    ].join('; ');
    const m1 = `RUN-${rand()}`;
    const command = { file_path: `${own}/hooked/.claude/commands/x.md`, content: 'x' };
    const write = `[[tool:Write:${JSON.stringify(command)}]]`;
    expect(
      (
        await runOnce(
          sandboxed,
          buildClaudeArgs(sandboxed, { mcpConfigPath: null, sandboxScope: scope(own) }),
          own,
          `${m1} [[bash:${steps}]]${write}`,
        )
      ).kind,
    ).toBe('result');
    const [bash, written] = toolResults(m1);
    // Bash cannot reach every .claude (bwrap takes no patterns): the settings land, and must then be ignored.
    expect(bash!.text).toMatch(/planted=0[\s\S]*planted=0[\s\S]*mcp=0/);
    expect(readFileSync(join(own, 'hooked', '.claude', 'settings.local.json'), 'utf8')).toContain(mark);
    // The cwd's .claude is read-only to Bash; the Write tool is refused in any .claude.
    expect(bash!.text).toMatch(/notes\.md: Read-only file system\s+notes=1/);
    expect(existsSync(join(own, '.claude', 'notes.md'))).toBe(false);
    expect(written).toMatchObject({ isError: true, text: expect.stringMatching(/\.claude folder/) });
    expect(existsSync(join(own, 'hooked', '.claude', 'commands', 'x.md'))).toBe(false);

    // A later run whose cwd holds the planted hook and MCP server, sandboxed and not: neither ever runs. The folder's
    // CLAUDE.md (text for the model, not a setting) still reaches a tier of modular context.
    for (const tier of [sandboxed, comprehensive]) {
      const cwd = join(own, 'hooked');
      const m = `RUN-${rand()}`;
      const args = buildClaudeArgs(tier, { mcpConfigPath: null, sandboxScope: scope(cwd) });
      expect((await runOnce(tier, args, cwd, `${m} [[bash:echo hi]][[tool:Read:{"file_path":"${cwd}/x"}]]`)).kind).toBe(
        'result',
      );
      expect(toolResults(m)[0]!.text).toMatch(/hi/);
      expect(existsSync(mark)).toBe(false);
      expect(existsSync(`${mark}-mcp`)).toBe(false);
      expect(JSON.stringify(f.api.messageRequests((r) => r.firstUserText.includes(m)))).toContain(MD);
    }

    // A later sandboxed run whose cwd holds disableAllHooks: the path guard still refuses a folder made in the state
    // dir after the run's rules were written (only the guard, a hook, can refuse that one).
    const cwd = join(own, 'unhooked');
    const args = buildClaudeArgs(sandboxed, { mcpConfigPath: null, sandboxScope: scope(cwd) });
    const later = join(stateDir, 'worktrees', `t_${rand()}`);
    mkdirSync(later);
    const secret = `LATER_${rand()}`;
    writeFileSync(join(later, 'l.txt'), secret);
    const m3 = `RUN-${rand()}`;
    expect((await runOnce(sandboxed, args, cwd, `${m3} [[tool:Read:{"file_path":"${later}/l.txt"}]]`)).kind).toBe(
      'result',
    );
    expect(toolResults(m3)[0]).toMatchObject({ isError: true, text: expect.stringMatching(/sandbox hides/) });
    expect(JSON.stringify(f.api.messageRequests((r) => r.firstUserText.includes(m3)))).not.toContain(secret);
  });
});

describe("through the server: a repository's own .claude settings", () => {
  it('run no hook in a sandboxed deep_task (its clone) nor in a comprehensive one in the folder itself', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'ct-src-repo-'));
    const git = (...a: string[]) => execFileSync('git', ['-C', repo, ...a], { encoding: 'utf8' }).trim();
    git('init', '-q', '-b', 'main');
    const mark = join(mkdtempSync(join(tmpdir(), 'ct-src-mark-')), 'hook-ran');
    const hook = { matcher: '.*', hooks: [{ type: 'command', command: `touch ${mark}` }] };
    mkdirSync(join(repo, '.claude'));
    // Committed (a task's branch merged, a cloned project): the sandboxed task's clone checks it out.
    writeFileSync(join(repo, '.claude', 'settings.json'), JSON.stringify({ hooks: { PreToolUse: [hook] } }));
    writeFileSync(join(repo, 'README'), 'base\n');
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-qm', 'base');
    const config = configFile({ allowedRoots: [repo], tiers: { comprehensive: { mcpConfig: null } } });
    const s = await startServer(f.api, { cwd: repo, env: { CLAUDE_TIERS_CONFIG: config } });
    try {
      for (const tier of ['sandboxed', 'comprehensive']) {
        const args = { prompt: `[[bash:echo ran-${tier}]]`, cwd: repo, tier, wait_s: 0 };
        let v = viewOf(await s.client.callTool({ name: 'deep_task', arguments: args }));
        for (const end = Date.now() + 90_000; !v.final && Date.now() < end;) {
          const more = { task_id: v.task_id, wait_s: 10, cursor: v.cursor };
          v = viewOf(await s.client.callTool({ name: 'task_status', arguments: more }));
        }
        expect([tier, v.state]).toEqual([tier, 'succeeded']);
        expect([tier, existsSync(mark)]).toEqual([tier, false]);
      }
    } finally {
      await s.close();
    }
  });
});
