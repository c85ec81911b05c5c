import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claudeEnv, makeTempHome, startScriptedApi } from '../test/support/scripted-api.js';
import { REAL_CLAUDE, ROOT } from '../test/support/harness.js';
import { fanOut, formatResult, makeScratchRepo } from './fan-out.js';

// Whether Claude Code's Linux sandbox can run here: it needs bwrap (Debian bubblewrap) and socat on PATH.
function haveSandboxTools(): boolean {
  try {
    execFileSync('which', ['bwrap', 'socat'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// `npm run demo`: three sandboxed sub-agents, each in its own git worktree, write the same file of one scratch
// repository at once, with live progress; no credentials needed (the real claude against the scripted API).
async function main(): Promise<void> {
  const api = await startScriptedApi();
  try {
    const repo = makeScratchRepo();
    const sandboxed = haveSandboxTools();
    const env = {
      ...claudeEnv(api, await makeTempHome()),
      CLAUDE_TIERS_STATE_DIR: mkdtempSync(join(tmpdir(), 'ct-demo-')),
      CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE,
      CLAUDE_TIERS_CONFIG: join(ROOT, 'test', 'support', 'no-mcp.config.json'),
      CLAUDE_TIERS_ROOTS: repo,
      CLAUDE_TIERS_LOG_LEVEL: 'warn',
    };
    process.stderr.write(
      'claude-tiers demo: three sub-agents, each a real claude process, scripted by a local fake Anthropic API\n',
    );
    process.stderr.write(`scratch repository: ${repo}\n`);
    if (!sandboxed)
      process.stderr.write(
        'bwrap or socat missing (Debian: bubblewrap, socat): using the comprehensive tier with isolation ' +
          '"worktree", no sandbox\n',
      );
    process.stderr.write(
      `all three write shared.txt at once, each in its own ` +
        `worktree${sandboxed ? ', inside the sandbox (tier "sandboxed")' : ''}\n\n`,
    );
    const names = ['agent one', 'agent two', 'agent three'];
    const results = await fanOut({
      env,
      cwd: repo,
      isolate: true,
      tier: sandboxed ? 'sandboxed' : 'comprehensive',
      prompts: names.map(
        (name) =>
          `Write "${name}" into shared.txt [[bash:echo "${name}" > shared.txt; sleep 1]][[bash:cat shared.txt]]`,
      ),
    });
    for (const r of results) process.stdout.write(formatResult(r));
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
    process.stdout.write('\n== the three branches\n');
    for (const r of results) {
      const branch = r.worktree?.branch;
      process.stdout.write(
        branch
          ? `${branch}: shared.txt = ${JSON.stringify(git('show', `${branch}:shared.txt`))}\n`
          : `${r.task_id}: no branch\n`,
      );
    }
    const status = git('status', '--porcelain');
    process.stdout.write(
      `\n== your tree (${repo})\ngit status --porcelain: ${status === '' ? '(empty: unchanged)' : `\n${status}`}\n`,
    );
    process.stdout.write(`HEAD: ${git('log', '--oneline', '-1')}\n`);
  } finally {
    await api.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
