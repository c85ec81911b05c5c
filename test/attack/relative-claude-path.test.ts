import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REAL_CLAUDE, textOf } from '../support/harness.js';
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
