import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { argvRecordingClaude, configFile, REAL_CLAUDE, SERVER_ENTRY, startServer, textOf } from './support/harness.js';
import { viewOf, type TaskView as View } from './support/views.js';

let api: ScriptedApi;
const run = promisify(execFile);
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

beforeAll(async () => {
  api = await startScriptedApi();
});
afterAll(async () => {
  await api?.close();
});

describe('tiers reach claude as configured', () => {
  it('deep_task: the comprehensive model, the MCP tools of .mcp.comprehensive.json, and appended context', async () => {
    const contextFile = join(tmp('ct-ctx-'), 'team-notes.md');
    writeFileSync(contextFile, 'CONTEXT-MARKER-7319: always answer in English.');
    const config = configFile({ tiers: { comprehensive: { contextFiles: [contextFile] } } });
    const s = await startServer(api, { env: { CLAUDE_TIERS_CONFIG: config } });
    try {
      api.reset();
      const r = await s.client.callTool({
        name: 'deep_task',
        arguments: { prompt: 'tier check one [[text:checked]]', wait_s: 40 },
      });
      expect(viewOf(r).state, textOf(r)).toBe('succeeded');
      const req = api.messageRequests((q) => q.firstUserText.includes('tier check one'))[0]!;
      expect(req.model).toMatch(/opus/);
      const mcp = req.tools.filter((t) => t.startsWith('mcp__'));
      expect(mcp).toEqual(expect.arrayContaining(['mcp__memory__create_entities', 'mcp__filesystem__read_file']));
      expect(mcp.some((t) => t.startsWith('mcp__sequential-thinking__'))).toBe(true);
      expect(req.systemText).toContain('CONTEXT-MARKER-7319');
    } finally {
      await s.close();
    }
  });

  it("quick_answer: minimal context (short system prompt, only the tier's read-only tools)", async () => {
    const s = await startServer(api);
    try {
      api.reset();
      await s.client.callTool({ name: 'quick_answer', arguments: { prompt: 'tier check two' } });
      const req = api.messageRequests((q) => q.firstUserText.includes('tier check two'))[0]!;
      expect(req.model).toMatch(/haiku/);
      expect(req.systemText.length).toBeLessThan(2000);
      expect(req.tools.filter((t) => ['Bash', 'Edit', 'Write'].includes(t))).toEqual([]);
      expect(req.tools.filter((t) => t.startsWith('mcp__'))).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it(
    'uses an operator-defined tier when named, refuses an unknown one with the known names, and routes ' + '"auto"',
    async () => {
      const config = configFile({
        tiers: {
          cheap: {
            model: 'sonnet',
            outputFormat: 'json',
            timeoutS: 60,
            idleTimeoutS: 60,
            maxRetries: 0,
            allowedTools: ['Read'],
            contextMode: 'minimal',
          },
        },
      });
      const s = await startServer(api, { env: { CLAUDE_TIERS_CONFIG: config } });
      try {
        api.reset();
        const r = await s.client.callTool({
          name: 'quick_answer',
          arguments: { prompt: 'custom tier [[text:cheap answer]]', tier: 'cheap' },
        });
        expect(textOf(r)).toBe('cheap answer');
        expect(api.messageRequests((q) => q.firstUserText.includes('custom tier'))[0]!.model).toMatch(/sonnet/);
        const bad = await s.client.callTool({ name: 'quick_answer', arguments: { prompt: 'x', tier: 'premium' } });
        expect(bad.isError).toBe(true);
        expect(textOf(bad)).toMatch(/unknown tier "premium"; known tiers: speed, comprehensive, sandboxed, cheap/);
        const auto = await s.client.callTool({
          name: 'deep_task',
          arguments: { prompt: 'What is the capital of France? [[text:Paris]]', tier: 'auto', wait_s: 30 },
        });
        expect(viewOf(auto).routed).toBe('routed: speed (a simple question)');
        expect(viewOf(auto).result?.text).toBe('Paris');
        const auto2 = await s.client.callTool({
          name: 'quick_answer',
          arguments: { prompt: 'Run the tests in this project [[text:ran]]', tier: 'auto' },
        });
        expect((auto2.structuredContent as { routed?: string }).routed).toBe(
          'routed: comprehensive (mentions running tests or commands)',
        );
      } finally {
        await s.close();
      }
    },
  );

  it('a malformed config stops start-up with the file and field named', async () => {
    const file = configFile({ tiers: { speed: { timeoutS: 'fast' } }, limits: { maxRunning: 0 } });
    const err = await run(process.execPath, [SERVER_ENTRY], {
      env: { ...process.env, CLAUDE_TIERS_CONFIG: file },
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toContain(file);
    expect(err?.stderr).toMatch(/tiers\.speed\.timeoutS: .*number/);
    expect(err?.stderr).toMatch(/limits\.maxRunning/);
  });
});

describe('fallback', () => {
  it('a 529 storm on the primary model: deep_task answers from the fallback model and says so', async () => {
    const s = await startServer(api);
    try {
      const r = await s.client.callTool({
        name: 'deep_task',
        arguments: { prompt: 'storm [[error-model:opus:529]][[text:from sonnet]]', wait_s: 50 },
      });
      const v = viewOf(r);
      expect(v.state).toBe('succeeded');
      expect(v.result?.text).toBe('from sonnet');
      expect(v.fallback_model).toMatch(/sonnet/);
      expect(textOf(r)).toMatch(/fallback model used/);
    } finally {
      await s.close();
    }
  });

  it('quick_answer: a failing tier runs its fallback tier, and the result says so', async () => {
    const config = configFile({
      tiers: {
        speed: { fallbackTier: 'backup' },
        backup: { model: 'sonnet', outputFormat: 'json', timeoutS: 60, idleTimeoutS: 60, maxRetries: 0 },
      },
    });
    const s = await startServer(api, { env: { CLAUDE_TIERS_CONFIG: config } });
    try {
      const r = await s.client.callTool({
        name: 'quick_answer',
        arguments: { prompt: 'storm [[error-model:haiku:529]][[text:backup answer]]' },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      const sc = r.structuredContent as {
        answer: string;
        tier: string;
        fallback?: { from_tier: string; reason: string };
      };
      expect(sc.answer).toBe('backup answer');
      expect(sc.tier).toBe('backup');
      expect(sc.fallback?.from_tier).toBe('speed');
      expect(sc.fallback?.reason).toMatch(/529/);
    } finally {
      await s.close();
    }
  });
});

describe('permissions and roots', () => {
  it('refuses a cwd outside the roots, also through .. and a symlink', async () => {
    const root = tmp('ct-root-');
    mkdirSync(join(root, 'inside'));
    symlinkSync('/etc', join(root, 'escape'));
    const s = await startServer(api, { env: { CLAUDE_TIERS_ROOTS: root } });
    try {
      for (const cwd of ['/etc', join(root, '..'), join(root, 'escape'), join(root, 'inside', '..', '..')]) {
        const r = await s.client.callTool({ name: 'quick_answer', arguments: { prompt: 'x', cwd } });
        expect(r.isError, cwd).toBe(true);
        expect(textOf(r)).toMatch(/cwd: .*outside the allowed roots/);
      }
      const ok = await s.client.callTool({
        name: 'quick_answer',
        arguments: { prompt: '[[text:inside ok]]', cwd: join(root, 'inside') },
      });
      expect(textOf(ok)).toBe('inside ok');
    } finally {
      await s.close();
    }
  });

  it('never passes --dangerously-skip-permissions unless the operator config enables it', async () => {
    const rec = argvRecordingClaude(tmp('ct-argv-'));
    const s = await startServer(api, { env: { CLAUDE_TIERS_CLAUDE_BIN: rec.bin } });
    try {
      await s.client.callTool({ name: 'quick_answer', arguments: { prompt: '--dangerously-skip-permissions' } });
      await s.client.callTool({
        name: 'deep_task',
        arguments: { prompt: '--dangerously-skip-permissions [[text:x]]', wait_s: 30 },
      });
      const runs = rec.runs();
      expect(runs.length).toBe(2);
      for (const argv of runs)
        expect(argv.some((a) => a.includes('dangerously') || a.includes('bypassPermissions'))).toBe(false);
    } finally {
      await s.close();
    }
    const rec2 = argvRecordingClaude(tmp('ct-argv-'));
    // An operator's own tier (not the built-in sandboxed one, which runs only as a deep_task in its sandbox).
    const config = configFile({
      tiers: {
        unguarded: {
          model: 'haiku',
          outputFormat: 'json',
          timeoutS: 60,
          idleTimeoutS: 60,
          maxRetries: 0,
          dangerouslySkipPermissions: true,
        },
      },
    });
    const s2 = await startServer(api, {
      env: { CLAUDE_TIERS_CLAUDE_BIN: rec2.bin, CLAUDE_TIERS_CONFIG: config, IS_SANDBOX: '1' },
    });
    try {
      await s2.client.callTool({ name: 'quick_answer', arguments: { prompt: 'hi', tier: 'unguarded' } });
      expect(rec2.runs()[0]).toContain('--dangerously-skip-permissions');
    } finally {
      await s2.close();
    }
  });
});

describe('follow-ups', () => {
  it('continue_task_id resumes the earlier conversation as a new linked task', async () => {
    const s = await startServer(api);
    try {
      const first = viewOf(
        await s.client.callTool({
          name: 'deep_task',
          arguments: { prompt: 'FIRST-TURN-4711 remember this [[text:noted]]', wait_s: 40 },
        }),
      );
      expect(first.state).toBe('succeeded');
      api.reset();
      const second = await s.client.callTool({
        name: 'deep_task',
        arguments: { prompt: 'SECOND-TURN what did I say?', continue_task_id: first.task_id, wait_s: 40 },
      });
      const v = viewOf(second) as View & { continue_of?: string };
      expect(v.state, textOf(second)).toBe('succeeded');
      expect(v.continue_of).toBe(first.task_id);
      expect(v.task_id).not.toBe(first.task_id);
      const req = api.messageRequests((q) => JSON.stringify(q.messages).includes('SECOND-TURN'))[0]!;
      expect(JSON.stringify(req.messages)).toContain('FIRST-TURN-4711');
      expect(JSON.stringify(req.messages)).toContain('noted');
    } finally {
      await s.close();
    }
  });
});

describe('doctor', () => {
  const doctor = (env: Record<string, string | undefined>) =>
    run(process.execPath, [SERVER_ENTRY, 'doctor'], { env: { ...process.env, ...env }, timeout: 60_000 }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );

  it('passes on a good setup', async () => {
    const r = await doctor({
      ANTHROPIC_API_KEY: 'sk-test',
      CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE,
      CLAUDE_TIERS_STATE_DIR: tmp('ct-doc-'),
    });
    expect(r.out).toMatch(/PASS\s+claude\s+.*2\.1\.\d+/);
    expect(r.out).toMatch(/PASS\s+mcp memory/);
    expect(r.out).toMatch(/PASS\s+containment\s+pid namespace \(setpriv \+ unshare\)\n/);
    expect(r.out).toContain('all checks passed');
    expect(r.code).toBe(0);
  });

  it(
    'warns that the comprehensive tier runs Bash unconfined without asking, and names the sandboxed ' + 'tier',
    async () => {
      const base = {
        ANTHROPIC_API_KEY: 'sk-test',
        CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE,
        CLAUDE_TIERS_STATE_DIR: tmp('ct-doc-'),
      };
      const r = await doctor({
        ...base,
        CLAUDE_TIERS_CONFIG: configFile({ tiers: { comprehensive: { mcpConfig: null } } }),
      });
      expect(r.out).toMatch(
        new RegExp(
          String.raw`PASS\s+bash\s+warning: tier comprehensive runs any Bash command as the server's ` +
            String.raw`user without asking, unconfined .*use the sandboxed tier`,
        ),
      );
      const noBash = await doctor({
        ...base,
        CLAUDE_TIERS_CONFIG: configFile({
          tiers: { comprehensive: { mcpConfig: null, allowedTools: ['Read', 'Edit'] } },
        }),
      });
      expect(noBash.out).toMatch(/PASS\s+bash\s+no tier runs Bash unconfined without asking/);
    },
  );

  it('says when containment is unavailable, and why, without failing', async () => {
    const r = await doctor({
      PATH: '/nonexistent',
      ANTHROPIC_API_KEY: 'sk-test',
      CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE,
      CLAUDE_TIERS_STATE_DIR: tmp('ct-doc-'),
    });
    expect(r.out).toMatch(
      /PASS\s+containment\s+unavailable \(setpriv not found on PATH \(util-linux\)\); process-group kill only\n/,
    );
  });

  it('fails with a named reason when the binary is missing or the config is bad', async () => {
    // The MCP servers' probes (three `npx` starts) have nothing to do with the binary: off here.
    const missing = await doctor({
      ANTHROPIC_API_KEY: 'sk-test',
      CLAUDE_TIERS_CLAUDE_BIN: '/nonexistent/claude',
      CLAUDE_TIERS_STATE_DIR: tmp('ct-doc-'),
      CLAUDE_TIERS_CONFIG: configFile({ tiers: { comprehensive: { mcpConfig: null } } }),
    });
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/FAIL\s+claude\s+claude not found/);
    const bad = await doctor({ CLAUDE_TIERS_CONFIG: configFile({ tiers: { speed: { model: '--evil' } } }) });
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/FAIL\s+config\s+[\s\S]*tiers\.speed\.model/);
  });
});
