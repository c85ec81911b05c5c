import { execa } from 'execa';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpConfigFile } from '../src/mcp-config.js';
import { fanOut } from '../examples/fan-out.js';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { REAL_CLAUDE, ROOT } from './support/harness.js';

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
    expect(lines.filter((l) => l.startsWith('started t_'))).toHaveLength(3);
    expect(lines.some((l) => /^\[agent 1\] turn \d+ · Bash: echo first/.test(l))).toBe(true);
  }, 60_000);
});
