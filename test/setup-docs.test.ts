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

// A README snippet with the placeholder path of a checkout replaced by this one.
const forThisCheckout = (text: string): string => text.replaceAll('/path/to/claude-tiers', ROOT);

// `claude mcp list` of the real claude under this HOME: it starts each stdio server and says whether it connected.
async function mcpList(home: string): Promise<string> {
  const env = { ...claudeEnv(api, home), CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE, CLAUDE_TIERS_WARM_SPARES: '0' };
  const r = await execa(REAL_CLAUDE, ['mcp', 'list'], {
    env,
    extendEnv: false,
    cwd: mkdtempSync(join(tmpdir(), 'ct-proj-')),
    reject: false,
    timeout: 90_000,
  });
  return `${r.stdout}\n${r.stderr}`;
}

describe('setup snippets in the README (issue 21, item 1)', () => {
  it(
    "Claude Code: the `claude mcp add` line, with this checkout's path, gives a server `claude mcp list` " +
      'shows Connected',
    async () => {
      const cmd = snippet('claude-code-cli').trim();
      expect(cmd).toBe('claude mcp add --scope user claude-tiers -- node /path/to/claude-tiers/dist/src/index.js');
      expect(readme).toMatch(/npx -y claude-tiers[^\n]*|once published/);
      const home = await makeTempHome();
      const add = await execa(REAL_CLAUDE, forThisCheckout(cmd).split(' ').slice(1), {
        env: claudeEnv(api, home),
        extendEnv: false,
        cwd: mkdtempSync(join(tmpdir(), 'ct-proj-')),
        reject: false,
        timeout: 30_000,
      });
      expect(add.exitCode, add.stderr).toBe(0);
      expect(await mcpList(home)).toMatch(/claude-tiers: node \S+dist\/src\/index\.js - ✔ Connected/);
    },
    120_000,
  );

  it('no snippet leads with npx: the npx forms are given as "once published"', () => {
    const section = readme.slice(
      readme.indexOf('## Add it to your agent'),
      readme.indexOf('**Claude Code in `-p` (print) mode**'),
    );
    for (const name of ['claude-code-cli', 'claude-code-mcp-json', 'claude-desktop', 'codex-toml'])
      expect(snippet(name), name).not.toMatch(/npx/);
    for (const m of section.matchAll(/npx -y claude-tiers/g))
      expect(section.slice(Math.max(0, m.index - 200), m.index)).toMatch(/once (the package is )?published/);
  });

  it.each(['claude-code-mcp-json', 'claude-desktop'])('%s is a valid MCP server config naming claude-tiers', (name) => {
    const parsed = McpConfigFile.safeParse(JSON.parse(snippet(name)));
    expect(parsed.success, parsed.success ? '' : parsed.error.message).toBe(true);
    expect(parsed.data?.mcpServers['claude-tiers']).toMatchObject({
      command: 'node',
      args: ['/path/to/claude-tiers/dist/src/index.js'],
    });
  });

  it('Codex: the TOML parses to an mcp_servers entry', () => {
    const toml = parseToml(snippet('codex-toml')) as {
      mcp_servers: Record<string, { command: string; args: string[] }>;
    };
    expect(toml.mcp_servers['claude-tiers']).toMatchObject({
      command: 'node',
      args: ['/path/to/claude-tiers/dist/src/index.js'],
    });
  });
});

describe('claude-tiers setup (issue 21, item 1)', () => {
  it(
    'claude-code: prints the line for this copy; --write adds it and `claude mcp list` shows it Connected; ' +
      'again replaces it',
    async () => {
      const home = await makeTempHome();
      const env = { ...claudeEnv(api, home), CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE };
      const shown = await runCli(['setup', 'claude-code'], { env });
      expect(shown.code).toBe(0);
      expect(shown.stdout).toBe(`claude mcp add --scope user claude-tiers -- ${process.execPath} ${SERVER_ENTRY}\n`);
      expect(shown.stderr).toMatch(/--write/);
      for (let i = 0; i < 2; i++) {
        const written = await runCli(['setup', 'claude-code', '--write'], { env, timeoutMs: 90_000 });
        expect(written.code, written.stderr).toBe(0);
        expect(written.stdout).toMatch(/^added to Claude Code \(user scope/);
      }
      const config = JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8')) as {
        mcpServers: Record<string, { command: string; args: string[] }>;
      };
      expect(config.mcpServers['claude-tiers']).toMatchObject({ command: process.execPath, args: [SERVER_ENTRY] });
      expect(await mcpList(home)).toMatch(
        new RegExp(`claude-tiers: ${process.execPath} ${SERVER_ENTRY} - ✔ Connected`),
      );
    },
    180_000,
  );

  it('claude-desktop --write merges into the platform file, keeping other servers and keys', async () => {
    const home = await makeTempHome();
    const file = join(home, '.config', 'Claude', 'claude_desktop_config.json');
    mkdirSync(join(home, '.config', 'Claude'), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({
        theme: 'dark',
        mcpServers: {
          other: { command: 'other-server', args: ['x'] },
          'claude-tiers': { command: 'npx', args: ['-y', 'claude-tiers'] },
        },
      }),
    );
    const env = { ...claudeEnv(api, home), XDG_CONFIG_HOME: '' };
    const shown = await runCli(['setup', 'claude-desktop'], { env });
    expect(JSON.parse(shown.stdout)).toEqual({
      mcpServers: { 'claude-tiers': { command: process.execPath, args: [SERVER_ENTRY] } },
    });
    expect(shown.stderr).toContain(file);
    const r = await runCli(['setup', 'claude-desktop', '--write'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`updated ${file}`);
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(config).toEqual({
      theme: 'dark',
      mcpServers: {
        other: { command: 'other-server', args: ['x'] },
        'claude-tiers': { command: process.execPath, args: [SERVER_ENTRY] },
      },
    });
    expect(McpConfigFile.safeParse({ mcpServers: config.mcpServers }).success).toBe(true);
    // A file that is not JSON is left alone, with one line that says so.
    writeFileSync(file, '{ not json');
    const bad = await runCli(['setup', 'claude-desktop', '--write'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^claude-tiers: \S+claude_desktop_config.json is not valid JSON .*\n$/);
    expect(readFileSync(file, 'utf8')).toBe('{ not json');
  });

  it(
    'codex --write merges into ~/.codex/config.toml: other tables kept, our old table (and its sub-tables) ' +
      'replaced',
    async () => {
      const home = await makeTempHome();
      const file = join(home, '.codex', 'config.toml');
      mkdirSync(join(home, '.codex'));
      writeFileSync(
        file,
        [
          'model = "o4"',
          '',
          '[mcp_servers.other]',
          'command = "other"',
          '',
          '[mcp_servers.claude-tiers]',
          'command = "npx"',
          'args = ["-y", "claude-tiers"]',
          '',
          '[mcp_servers.claude-tiers.env]',
          'A = "1"',
          '',
          '[profiles.fast]',
          'model = "mini"',
          '',
        ].join('\n'),
      );
      const env = { ...claudeEnv(api, home) };
      for (let i = 0; i < 2; i++) expect((await runCli(['setup', 'codex', '--write'], { env })).code).toBe(0);
      const toml = parseToml(readFileSync(file, 'utf8')) as Record<string, unknown>;
      expect(toml).toEqual({
        model: 'o4',
        mcp_servers: {
          other: { command: 'other' },
          'claude-tiers': {
            command: process.execPath,
            args: [SERVER_ENTRY],
            startup_timeout_sec: 20,
            tool_timeout_sec: 300,
          },
        },
        profiles: { fast: { model: 'mini' } },
      });
      // Printed, the same table.
      const shown = parseToml((await runCli(['setup', 'codex'], { env })).stdout) as {
        mcp_servers: Record<string, unknown>;
      };
      expect(shown.mcp_servers['claude-tiers']).toEqual((toml.mcp_servers as Record<string, unknown>)['claude-tiers']);
    },
  );

  it('a bad setup command line exits 2 with one line', async () => {
    const env = claudeEnv(api, await makeTempHome());
    for (const args of [['setup'], ['setup', 'vscode'], ['setup', 'codex', 'extra'], ['setup', 'codex', '--force']]) {
      const r = await runCli(args, { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
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
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.dependencies['@anthropic-ai/claude-code']).toBe('2.1.330');
    expect(pkg.devDependencies['@anthropic-ai/claude-code']).toBeUndefined();
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dependencies?: Record<string, string>; dev?: boolean }>;
    };
    expect(lock.packages['']!.dependencies!['@anthropic-ai/claude-code']).toBe('2.1.330');
    expect(lock.packages['node_modules/@anthropic-ai/claude-code']!.dev).toBeUndefined();
  });

  it('the README documents HTTP mode, the token, server_stats, running from a checkout and the security model', () => {
    for (const text of [
      'serve --http',
      'CLAUDE_TIERS_HTTP_TOKEN',
      'at least 16',
      'allowedHosts',
      'server_stats',
      'npm link',
      'node /path/to/claude-tiers/dist/src/index.js',
      '## Security model',
      'PID namespace',
    ]) {
      expect(readme, text).toContain(text);
    }
  });

  it(
    'from a checkout, --help and the start-up line say how to start this copy (node .../dist/src/index.js), ' +
      'not npx',
    async () => {
      const { env } = await serverEnv(api);
      const help = await runCli(['--help'], { env });
      expect(help.stdout).toContain(`claude mcp add claude-tiers -- node ${SERVER_ENTRY}`);
      expect(help.stdout).not.toMatch(/npx/);
      const s = await startServer(api);
      try {
        // The line comes once the engine is built, just after the server starts answering.
        await waitFor(() => s.stderr().includes('add to Claude Code'), 10_000);
        expect(s.stderr()).toContain(`add to Claude Code: claude mcp add claude-tiers -- node ${SERVER_ENTRY}`);
      } finally {
        await s.close();
      }
    },
  );

  it(
    'Claude Code in -p mode calls the tools once allowed, as the README says (--allowedTools, or a permission ' +
      'rule)',
    async () => {
      const allowed = /--allowedTools=(\S+)/.exec(snippet('claude-code-print-mode'))![1]!;
      const { env: serverVars } = await serverEnv(api);
      const mcpConfig = join(mkdtempSync(join(tmpdir(), 'ct-parent-')), 'mcp.json');
      writeFileSync(
        mcpConfig,
        JSON.stringify({
          mcpServers: { 'claude-tiers': { command: process.execPath, args: [SERVER_ENTRY], env: serverVars } },
        }),
      );
      const parent = async (extra: string[], home?: string) => {
        const r = await execa(
          REAL_CLAUDE,
          ['-p', '--output-format=json', `--mcp-config=${mcpConfig}`, '--strict-mcp-config', ...extra],
          {
            env: { ...claudeEnv(api, home ?? (await makeTempHome())), ENABLE_TOOL_SEARCH: 'false' },
            extendEnv: false,
            cwd: mkdtempSync(join(tmpdir(), 'ct-parent-cwd-')),
            input: '[[tool:mcp__claude-tiers__quick_answer:{"prompt":"what does HTTP 418 mean"}]]',
            reject: false,
            timeout: 60_000,
          },
        );
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
    },
    180_000,
  );
});
