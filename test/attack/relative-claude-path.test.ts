import { existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFile, REAL_CLAUDE, runCli, textOf } from '../support/harness.js';
import { viewOf } from '../support/views.js';
import { useRepoServer } from './repo-server.js';

// The claude binary is found once (claudeBinaryOf) by findOnPath, which keeps a PATH entry as written: with a
// relative entry (`node_modules/.bin` on PATH, a common shell set-up) the path found is relative
// ("node_modules/.bin/claude", checked against the server's own cwd), and every run spawns it with the run's cwd, so
// it names <run cwd>/node_modules/.bin/claude: a file the task's tree holds. A sandboxed task (isolation "none", which
// a client may ask for) writes one in its cwd, and the next run there (any token's, any tier's) runs it as the
// server's user, outside any sandbox: claude itself is what sets the sandbox up.
const ctx = useRepoServer(
  {},
  {
    // The user's project, where their MCP client started the server: a JS project with claude installed locally.
    beforeStart(repo) {
      mkdirSync(join(repo, 'node_modules', '.bin'), { recursive: true });
      symlinkSync(REAL_CLAUDE, join(repo, 'node_modules', '.bin', 'claude'));
    },
    env: { CLAUDE_TIERS_CLAUDE_BIN: '', PATH: `node_modules/.bin:${process.env.PATH ?? '/usr/bin:/bin'}` },
  },
);

describe('a claude binary found through a relative PATH entry', () => {
  it('is not replaced by a file a sandboxed task writes in its cwd', async () => {
    const { server, roots, repo } = ctx;
    const first = await server.client.callTool({ name: 'quick_answer', arguments: { prompt: 'hi', cwd: repo } });
    expect(first.isError, textOf(first)).toBeFalsy();
    const escaped = join(roots, 'escaped');
    // Written by the sandboxed task inside its cwd: a "claude" that leaves a mark outside the cwd (which the sandbox
    // forbids), then runs the real one.
    const script = `#!/bin/sh\\necho ran-as-$(id -un) > ${escaped}\\nexec ${REAL_CLAUDE} "$@"\\n`;
    const cmd =
      `mkdir -p node_modules/.bin && rm -f node_modules/.bin/claude && printf '${script}' > ` +
      `node_modules/.bin/claude && chmod +x node_modules/.bin/claude; echo planted=$?; touch ${escaped}.direct; ` +
      `echo direct=$?`;
    const r = await server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:${cmd}]]`, cwd: repo, tier: 'sandboxed', isolation: 'none', wait_s: 0 },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const v = await ctx.final(viewOf(r).task_id);
    console.log('task:', v.state, v.last_text);
    expect(v.last_text).toMatch(/planted=0/);
    // The sandbox holds the task itself: it cannot write outside its cwd.
    expect(existsSync(`${escaped}.direct`)).toBe(false);
    // The next run in that folder: another call, on the speed tier.
    const next = await server.client.callTool({ name: 'quick_answer', arguments: { prompt: 'again', cwd: repo } });
    console.log(
      'next:',
      next.isError,
      textOf(next).slice(0, 200),
      existsSync(escaped),
      existsSync(`${escaped}.direct`),
    );
    expect(existsSync(escaped)).toBe(false);
  }, 240_000);
});

// The same hole through the server's own settings: a relative claudeBin names a file of each run's folder. It is
// refused when the config is loaded (the server does not start; one line says which setting and how to fix it), not
// at each call; --claude-bin on the command line is the invoking shell's path, as --config is.
describe('a relative claudeBin', () => {
  const home = () => mkdtempSync(join(tmpdir(), 'ct-relbin-'));
  const base = () => ({ HOME: home(), PATH: process.env.PATH ?? '/usr/bin:/bin', CLAUDE_TIERS_CONFIG: '' });
  const oneLine = (r: { stderr: string }) => {
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  };

  it('from CLAUDE_TIERS_CLAUDE_BIN or the config file stops start-up with one line naming its source', async () => {
    const fromEnv = await runCli([], { env: { ...base(), CLAUDE_TIERS_CLAUDE_BIN: 'node_modules/.bin/claude' } });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toMatch(
      /claudeBin: "node_modules\/\.bin\/claude" is a relative path.*absolute.*\(from env\)/,
    );
    oneLine(fromEnv);
    const file = configFile({ claudeBin: './claude' });
    const fromFile = await runCli([], { env: { ...base(), CLAUDE_TIERS_CONFIG: file } });
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain(`claudeBin: "./claude" is a relative path`);
    expect(fromFile.stderr).toContain(`(from file ${file})`);
    oneLine(fromFile);
    // doctor names it too (it used to pass the config and fail only at the binary).
    const doctor = await runCli(['doctor'], { env: { ...base(), CLAUDE_TIERS_CLAUDE_BIN: './claude' } });
    expect(doctor.stdout).toMatch(/FAIL\s+config\s+invalid configuration: claudeBin: "\.\/claude" is a relative path/);
  });

  it("given as --claude-bin is resolved against the invoking shell's folder", async () => {
    const cwd = home();
    const r = await runCli(['--print-config', '--claude-bin', './bin/claude'], { env: base(), cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`"claudeBin": ${JSON.stringify(join(cwd, 'bin', 'claude'))}`);
  });
});
