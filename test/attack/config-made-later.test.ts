import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { textOf } from '../support/harness.js';
import { viewOf } from '../support/views.js';
import { useRepoServer } from './repo-server.js';

// The user's config paths were found once, at start-up (only the paths that existed
// then). A config folder made after the server started ($XDG_CONFIG_HOME/claude-tiers, here ~/.config/claude-tiers:
// the user sets up tokens for the next start, or for an HTTP server beside this stdio one) was then hidden from no
// run: not from the sandboxed tier's Bash (bwrap's denyRead), not from the speed tier's Read (its cached settings).
// Each run now hides the config paths that exist when it starts, and a spec kept from before is not reused.
const ctx = useRepoServer();
const SECRET = `later-admin-token-${Math.random().toString(36).slice(2)}`;
const configPath = () => join(ctx.server.home, '.config', 'claude-tiers', 'config.json');
const readOnSpeedTier = (file: string) =>
  ctx.server.client.callTool({
    name: 'quick_answer',
    arguments: { prompt: `[[tool:Read:${JSON.stringify({ file_path: file })}]] x`, cwd: ctx.repo },
  });

// The config, made once for the file's tests: after the server started, and after a speed run in the repository read
// its path while it did not exist (so whatever is found once has been found, and that run's spec is kept).
let made: Promise<string> | undefined;
function configMadeLater(): Promise<string> {
  made ??= (async () => {
    const file = configPath();
    const before = await readOnSpeedTier(file);
    expect(before.isError, textOf(before)).toBeFalsy();
    expect(textOf(before)).not.toContain(SECRET);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify({ httpTokens: [{ name: 'ops', token: SECRET, admin: true }] }), { mode: 0o600 });
    return file;
  })();
  return made;
}

describe("the user's config made after the server started", () => {
  it('is unreadable to a sandboxed task (Bash cat)', async () => {
    const file = await configMadeLater();
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

  it("is denied to the speed tier's Read, whose spec was made and kept before the config existed", async () => {
    const text = textOf(await readOnSpeedTier(await configMadeLater()));
    console.log('speed:', text.slice(0, 300));
    expect(text).not.toContain(SECRET);
    expect(text).toMatch(/denied|not allowed|permission/i);
  }, 240_000);
});
