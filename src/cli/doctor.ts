import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeContainment, probeContainment } from '../claude/contain.js';
import { ClaudeNotFoundError, findClaude, taskWritable } from '../claude/find-binary.js';
import { claudeVersionSync } from '../claude/spawn.js';
import { ConfigError, loadConfig, type ConfigFlags } from '../config/load.js';
import { findOnPath, SANDBOX_TOOLS } from '../isolation/sandbox-check.js';
import { loadMcpConfig, materializeMcpConfig } from '../mcp-config.js';
import { fromPackageRoot } from '../paths.js';
import { withholdSecrets } from '../secrets.js';
import { prepareStateDir } from '../state-dir.js';
import { validateTiers } from '../tiers.js';
import { unconfinedBashCheck } from './doctor-bash.js';
import { probeMcpServer } from './mcp-probe.js';
import { printOut } from './output.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

function authCheck(env: NodeJS.ProcessEnv): Check {
  if (env.ANTHROPIC_API_KEY) return { name: 'auth', ok: true, detail: 'ANTHROPIC_API_KEY is set' };
  if (env.ANTHROPIC_AUTH_TOKEN || env.CLAUDE_CODE_OAUTH_TOKEN)
    return { name: 'auth', ok: true, detail: 'an auth token is set in the environment' };
  if (env.CLAUDE_CODE_USE_BEDROCK || env.CLAUDE_CODE_USE_VERTEX)
    return { name: 'auth', ok: true, detail: 'a cloud provider (Bedrock/Vertex) is configured' };
  const home = env.HOME ?? '';
  if (home && existsSync(join(home, '.claude', '.credentials.json')))
    return { name: 'auth', ok: true, detail: `logged in (${join(home, '.claude', '.credentials.json')})` };
  return {
    name: 'auth',
    ok: false,
    detail: 'no ANTHROPIC_API_KEY and no claude login in HOME: set ANTHROPIC_API_KEY or run `claude` once and log in',
  };
}

// One line per program of Claude Code's sandbox (bwrap, socat): a failure only when a configured tier needs it.
function sandboxChecks(sandboxedTiers: string[], env: NodeJS.ProcessEnv): Check[] {
  return SANDBOX_TOOLS.map(({ bin, pkg }) => {
    const path = findOnPath(bin, env);
    const name = `sandbox ${bin}`;
    if (path) return { name, ok: true, detail: `${path} (Debian package ${pkg})` };
    const needed = sandboxedTiers.length > 0;
    const who = needed
      ? `tier${sandboxedTiers.length > 1 ? 's' : ''} ${sandboxedTiers.join(', ')} cannot start tasks`
      : 'no configured tier uses the sandbox';
    return {
      name,
      ok: !needed,
      detail: `${bin} not found on PATH: ${who}; install the Debian package ${pkg} (apt-get install -y ${pkg})`,
    };
  });
}

// Checks everything claude-tiers needs on this machine; every failure names what is wrong and the fix.
export async function runDoctor(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const checks: Check[] = [];
  let loaded;
  try {
    loaded = loadConfig({ env, flags });
    validateTiers(loaded.config);
    const ignored = loaded.ignored.length ? ` (ignored: ${loaded.ignored.map((i) => i.key).join(', ')})` : '';
    const files = [
      loaded.file && `file ${loaded.file}`,
      loaded.projectFile && `project file ${loaded.projectFile}${ignored}`,
    ].filter(Boolean);
    checks.push({ name: 'config', ok: true, detail: files.join('; ') || 'built-in defaults' });
  } catch (err) {
    checks.push({
      name: 'config',
      ok: false,
      detail: err instanceof ConfigError ? err.message : (err as Error).message,
    });
    return checks;
  }
  const { config } = loaded;
  // Neither `claude --version` nor the MCP servers probed below get the server's secrets.
  withholdSecrets(env, config.secretEnv);
  try {
    const warnings: string[] = [];
    const writable = taskWritable(config);
    const bin = findClaude({ env, configured: config.claudeBin, writable, warn: (w) => warnings.push(w) });
    const version = claudeVersionSync(bin.path, env, 20_000);
    const warned = warnings.map((w) => `; warning: ${w}`).join('');
    checks.push({ name: 'claude', ok: true, detail: `${bin.path} (from ${bin.source}): ${version}${warned}` });
  } catch (err) {
    checks.push({
      name: 'claude',
      ok: false,
      detail:
        err instanceof ClaudeNotFoundError
          ? err.message
          : `claude --version failed: ${(err as Error).message.slice(0, 300)}`,
    });
  }
  checks.push(authCheck(env));
  checks.push(
    ...sandboxChecks(
      Object.entries(config.tiers)
        .filter(([, t]) => t.sandbox?.enabled)
        .map(([n]) => n),
      env,
    ),
  );
  checks.push(unconfinedBashCheck(config));
  // Informational: without a PID namespace runs fall back to today's process-group kill, so this never fails.
  checks.push({ name: 'containment', ok: true, detail: describeContainment(probeContainment({ env })) });
  try {
    const modeProblem = prepareStateDir(config.stateDir);
    if (modeProblem) throw new Error(modeProblem);
    const probe = join(config.stateDir, `.doctor-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe);
    checks.push({ name: 'state dir', ok: true, detail: `${config.stateDir} is writable` });
  } catch (err) {
    const message = (err as Error).message;
    checks.push({
      name: 'state dir',
      ok: false,
      detail: message.startsWith('state dir')
        ? message
        : `${config.stateDir} is not writable (${message}); set CLAUDE_TIERS_STATE_DIR`,
    });
  }
  const probed = new Set<string>();
  for (const [tierName, tier] of Object.entries(config.tiers)) {
    if (!tier.mcpConfig) continue;
    const path = fromPackageRoot(tier.mcpConfig);
    if (probed.has(path)) continue;
    probed.add(path);
    const cwd = config.allowedRoots[0] ?? process.cwd();
    const mcp = materializeMcpConfig(loadMcpConfig(path), { CWD: cwd, CLAUDE_TIERS_STATE_DIR: config.stateDir });
    const results = await Promise.all(
      Object.entries(mcp.mcpServers).map(async ([name, server]) => ({ name, ...(await probeMcpServer(server, cwd)) })),
    );
    for (const r of results) checks.push({ name: `mcp ${r.name} (tier ${tierName})`, ok: r.ok, detail: r.detail });
  }
  return checks;
}

// Prints the checks as a table (or JSON) and returns the exit code: 0 when all pass.
export function reportDoctor(checks: Check[], json: boolean): number {
  const failed = checks.filter((c) => !c.ok).length;
  if (json) printOut(JSON.stringify({ ok: failed === 0, checks }, null, 2));
  else {
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) printOut(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}`);
    printOut(failed ? `${failed} check(s) failed` : 'all checks passed');
  }
  return failed ? 1 : 0;
}
