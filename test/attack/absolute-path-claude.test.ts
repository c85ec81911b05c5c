import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REAL_CLAUDE, textOf } from '../support/harness.js';
import { viewOf } from '../support/views.js';
import { useRepoServer } from './repo-server.js';

// findClaude now skips relative PATH entries, but an ABSOLUTE entry inside the project works the same way: direnv's
// `layout node` / `PATH_add node_modules/.bin`, or `export PATH="$PWD/node_modules/.bin:$PATH"`, put the project's
// node_modules/.bin on PATH as an absolute path, and an MCP client started from that shell passes it on. claude is a
// devDependency there: findClaude finds <project>/node_modules/.bin/claude and keeps that PATH. A sandboxed task with
// isolation "none" in the project may write its cwd, so it replaces that file, and the server's next spawn of
// "claude" (any caller, any tier) runs the task's program as the server's user, outside any sandbox.
// (Here the PATH entry goes through a link made before start-up to the repository, as the shell's $PWD would name it.)
const link = join(tmpdir(), `ct-proj-${process.pid}-${Date.now()}`);
const ctx = useRepoServer(
  {},
  {
    beforeStart(repo) {
      mkdirSync(join(repo, 'node_modules', '.bin'), { recursive: true });
      symlinkSync(REAL_CLAUDE, join(repo, 'node_modules', '.bin', 'claude'));
      symlinkSync(repo, link);
    },
    env: { CLAUDE_TIERS_CLAUDE_BIN: '', PATH: `${link}/node_modules/.bin:${process.env.PATH ?? '/usr/bin:/bin'}` },
  },
);

describe('a claude binary found through an absolute PATH entry inside the project', () => {
  it('is not replaced by a file a sandboxed task writes in its cwd', async () => {
    const { server, roots, repo } = ctx;
    const first = await server.client.callTool({ name: 'quick_answer', arguments: { prompt: 'hi', cwd: repo } });
    expect(first.isError, textOf(first)).toBeFalsy();
    // The project's claude is skipped at start-up, and the warning says how to pin one.
    expect(server.stderr()).toMatch(/node_modules\/\.bin\/claude on PATH is skipped: .*CLAUDE_TIERS_CLAUDE_BIN/);
    const escaped = join(roots, 'escaped');
    const script = `#!/bin/sh\\necho ran-as-$(id -un) > ${escaped}\\nexec ${REAL_CLAUDE} "$@"\\n`;
    const cmd =
      `rm -f node_modules/.bin/claude && printf '${script}' > node_modules/.bin/claude && ` +
      `chmod +x node_modules/.bin/claude; echo planted=$?; touch ${escaped}.direct; echo direct=$?`;
    const r = await server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:${cmd}]]`, cwd: repo, tier: 'sandboxed', isolation: 'none', wait_s: 0 },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const v = await ctx.final(viewOf(r).task_id);
    console.log('task:', v.state, v.last_text);
    expect(v.last_text).toMatch(/planted=0/);
    expect(existsSync(`${escaped}.direct`)).toBe(false);
    const next = await server.client.callTool({ name: 'quick_answer', arguments: { prompt: 'again', cwd: repo } });
    console.log('next:', next.isError, textOf(next).slice(0, 200), existsSync(escaped));
    expect(existsSync(escaped)).toBe(false);
  }, 240_000);
});
