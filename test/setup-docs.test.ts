import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpConfigFile } from '../src/mcp-config.js';
import { fanOut } from '../examples/fan-out.js';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { REAL_CLAUDE, ROOT, runCli, SERVER_ENTRY, serverEnv, startServer, waitFor } from './support/harness.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
// The fenced block right after `<!-- snippet: NAME -->` in the README.
function snippet(name: string): string {
  const m = new RegExp(`<!-- snippet: ${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!m) throw new Error(`README has no snippet ${name}`);
  return m[1]!;
}

let api: ScriptedApi;
beforeAll(async () => {
  api = await startScriptedApi();
});
afterAll(async () => {
  await api?.close();
});

describe('setup snippets in the README', () => {
  it('Claude Code: the real claude accepts the `claude mcp add` command', async () => {
    const cmd = snippet('claude-code-cli').trim();
    expect(cmd).toBe('claude mcp add claude-tiers -- npx claude-tiers');
    const home = await makeTempHome();
    const cwd = mkdtempSync(join(tmpdir(), 'ct-proj-'));
    const args = cmd.split(' ').slice(1);
    const env = claudeEnv(api, home);
    const add = await execa(REAL_CLAUDE, args, { env, extendEnv: false, cwd, reject: false, timeout: 30_000 });
    expect(add.exitCode, add.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8')) as { projects?: Record<string, { mcpServers?: Record<string, { command: string; args: string[] }> }> };
    const servers = Object.values(config.projects ?? {}).map((p) => p.mcpServers?.['claude-tiers']).filter(Boolean);
    expect(servers[0]).toMatchObject({ command: 'npx', args: ['claude-tiers'] });
  });

  it.each(['claude-code-mcp-json', 'claude-desktop'])('%s is a valid MCP server config naming claude-tiers', (name) => {
    const parsed = McpConfigFile.safeParse(JSON.parse(snippet(name)));
    expect(parsed.success, parsed.success ? '' : parsed.error.message).toBe(true);
    expect(parsed.data?.mcpServers['claude-tiers']).toMatchObject({ command: 'npx', args: ['-y', 'claude-tiers'] });
  });

  it('Codex: the TOML parses to an mcp_servers entry', () => {
    const toml = parseToml(snippet('codex-toml')) as { mcp_servers: Record<string, { command: string; args: string[] }> };
    expect(toml.mcp_servers['claude-tiers']).toMatchObject({ command: 'npx', args: ['-y', 'claude-tiers'] });
  });
});

describe('examples/fan-out.ts', () => {
  it('starts three deep tasks, follows their progress and returns their results', async () => {
    const lines: string[] = [];
    const results = await fanOut({
      env: {
        ...claudeEnv(api, await makeTempHome()),
        CLAUDE_TIERS_STATE_DIR: mkdtempSync(join(tmpdir(), 'ct-fan-')),
        CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE,
        CLAUDE_TIERS_CONFIG: join(ROOT, 'test', 'support', 'no-mcp.config.json'),
        CLAUDE_TIERS_WARM_SPARES: '0',
      },
      args: [join(ROOT, 'dist', 'src', 'index.js')],
      log: (l) => lines.push(l),
      prompts: ['one [[bash:echo first; sleep 1]]', 'two [[bash:echo second; sleep 1]]', 'three [[text:third done]]'],
    });
    expect(results.map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(results.map((r) => r.result)).toEqual(['done: first', 'done: second', 'third done']);
    expect(results.map((r) => r.worktree)).toEqual([undefined, undefined, undefined]);
    expect(lines.filter((l) => l.startsWith('started t_'))).toHaveLength(3);
    expect(lines.some((l) => /^\[agent 1\] turn \d+ · Bash: echo first/.test(l))).toBe(true);
  }, 180_000);
});

describe('packaging and the README (finding 14)', () => {
  it('@anthropic-ai/claude-code is a real dependency with an exact pin, in package.json and the lockfile', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.dependencies['@anthropic-ai/claude-code']).toBe('2.1.330');
    expect(pkg.devDependencies['@anthropic-ai/claude-code']).toBeUndefined();
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string>; dev?: boolean }> };
    expect(lock.packages['']!.dependencies!['@anthropic-ai/claude-code']).toBe('2.1.330');
    expect(lock.packages['node_modules/@anthropic-ai/claude-code']!.dev).toBeUndefined();
  });

  it('the README documents HTTP mode, the token, server_stats, running from a checkout and the security model', () => {
    for (const text of ['serve --http', 'CLAUDE_TIERS_HTTP_TOKEN', 'at least 16', 'allowedHosts', 'server_stats', 'npm link', 'node /path/to/claude-tiers/dist/src/index.js', '## Security model', 'PID namespace']) {
      expect(readme, text).toContain(text);
    }
  });

  it('from a checkout, --help and the start-up line say how to start this copy (node .../dist/src/index.js), not npx', async () => {
    const { env } = await serverEnv(api);
    const help = await runCli(['--help'], { env });
    expect(help.stderr).toContain(`claude mcp add claude-tiers -- node ${SERVER_ENTRY}`);
    expect(help.stderr).not.toMatch(/npx/);
    const s = await startServer(api);
    try {
      // The line comes once the engine is built, just after the server starts answering.
      await waitFor(() => s.stderr().includes('add to Claude Code'), 10_000);
      expect(s.stderr()).toContain(`add to Claude Code: claude mcp add claude-tiers -- node ${SERVER_ENTRY}`);
    } finally {
      await s.close();
    }
  });

  it('Claude Code in -p mode calls the tools once allowed, as the README says (--allowedTools, or a permission rule)', async () => {
    const allowed = /--allowedTools=(\S+)/.exec(snippet('claude-code-print-mode'))![1]!;
    const { env: serverVars } = await serverEnv(api);
    const mcpConfig = join(mkdtempSync(join(tmpdir(), 'ct-parent-')), 'mcp.json');
    writeFileSync(mcpConfig, JSON.stringify({ mcpServers: { 'claude-tiers': { command: process.execPath, args: [SERVER_ENTRY], env: serverVars } } }));
    const parent = async (extra: string[], home?: string) => {
      const r = await execa(REAL_CLAUDE, ['-p', '--output-format=json', `--mcp-config=${mcpConfig}`, '--strict-mcp-config', ...extra], {
        env: { ...claudeEnv(api, home ?? (await makeTempHome())), ENABLE_TOOL_SEARCH: 'false' },
        extendEnv: false,
        cwd: mkdtempSync(join(tmpdir(), 'ct-parent-cwd-')),
        input: '[[tool:mcp__claude-tiers__quick_answer:{"prompt":"what does HTTP 418 mean"}]]',
        reject: false,
        timeout: 60_000,
      });
      return JSON.parse(r.stdout) as { result: string; permission_denials: Array<{ tool_name: string }> };
    };
    const denied = await parent([]);
    expect(denied.permission_denials.map((d) => d.tool_name)).toEqual(['mcp__claude-tiers__quick_answer']);
    const byFlag = await parent([`--allowedTools=${allowed}`]);
    expect(byFlag.permission_denials).toEqual([]);
    expect(byFlag.result).toContain('ok: what does HTTP 418 mean');
    // The shorter form --help gives: every tool of the server.
    expect((await parent(['--allowedTools=mcp__claude-tiers'])).permission_denials).toEqual([]);
    // The README's permission rule, in the user's ~/.claude/settings.json.
    const rule = /`(\{"permissions": \{"allow": \["mcp__claude-tiers"\]\}\})`/.exec(readme)![1]!;
    const home = await makeTempHome();
    mkdirSync(join(home, '.claude'));
    writeFileSync(join(home, '.claude', 'settings.json'), rule);
    const byRule = await parent([], home);
    expect(byRule.permission_denials).toEqual([]);
    expect(byRule.result).toContain('ok: what does HTTP 418 mean');
  }, 180_000);
});
