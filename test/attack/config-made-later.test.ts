import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { textOf } from '../support/harness.js';
import { viewOf } from '../support/views.js';
import { useRepoServer } from './repo-server.js';

// The user's config paths are found once, at start-up (RunDeps.hiddenPaths, configPaths: only paths that exist then).
// A config folder made after the server started ($XDG_CONFIG_HOME/claude-tiers, here ~/.config/claude-tiers: the
// user sets up tokens for the next start, or for an HTTP server beside this stdio one) is then hidden from no run:
// not from the sandboxed tier's Bash (bwrap's denyRead), not from the speed tier's Read (its cached settings). Before
// the change each run looked the paths up again, so it was hidden from every run started after it was made.
const ctx = useRepoServer();
const SECRET = `later-admin-token-${Math.random().toString(36).slice(2)}`;

function makeConfigLater(): string {
  const dir = join(ctx.server.home, '.config', 'claude-tiers');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ httpTokens: [{ name: 'ops', token: SECRET, admin: true }] }), { mode: 0o600 });
  return file;
}

describe("the user's config made after the server started", () => {
  it('is unreadable to a sandboxed task (Bash cat)', async () => {
    // One run first, so whatever is found once has been found.
    const warm = await ctx.server.client.callTool({ name: 'quick_answer', arguments: { prompt: 'hi', cwd: ctx.repo } });
    expect(warm.isError).toBeFalsy();
    const file = makeConfigLater();
    const r = await ctx.server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:cat ${file}; echo rc=$?]]`, cwd: ctx.repo, tier: 'sandboxed', wait_s: 0 },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const v = await ctx.final(viewOf(r).task_id);
    console.log('sandboxed:', v.state, v.last_text);
    expect(v.last_text ?? '').toMatch(/rc=/);
    expect(v.last_text).not.toContain(SECRET);
  }, 240_000);

  it("is unreadable to the speed tier's Read", async () => {
    const file = join(ctx.server.home, '.config', 'claude-tiers', 'config.json');
    const r = await ctx.server.client.callTool({
      name: 'quick_answer',
      arguments: { prompt: `[[tool:Read:${JSON.stringify({ file_path: file })}]] x`, cwd: ctx.repo },
    });
    const text = textOf(r);
    console.log('speed:', text.slice(0, 300));
    expect(text).not.toContain(SECRET);
  }, 120_000);
});
