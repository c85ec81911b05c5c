import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { textOf } from '../support/harness.js';
import { useRepoServer } from './repo-server.js';

// A kept spec (SpecCache) is made again when one of the user's config paths came or went (MadeSpec.seen), but not when
// one of them now leads somewhere else. The speed tier's file tools are kept off the user's config by deny rules
// naming each config path in both spellings, as written and where its links lead (sandbox-hidden.ts spellings),
// worked out when the spec was made. The user's config folder replaced by a link (a dotfiles manager: stow, chezmoi,
// home-manager) still exists, so the kept spec stays, and its rules do not name where the link now leads: the speed
// tier's Read opens the config, with its HTTP tokens, through that path. A spec made now would deny it.
const ctx = useRepoServer();
const SECRET = `relinked-admin-token-${Math.random().toString(36).slice(2)}`;
const readOnSpeedTier = (file: string) =>
  ctx.server.client.callTool({
    name: 'quick_answer',
    arguments: { prompt: `[[tool:Read:${JSON.stringify({ file_path: file })}]] x`, cwd: ctx.repo },
  });

describe("the user's config folder replaced by a link after a speed run", () => {
  it("is still denied to the speed tier's Read where the link leads", async () => {
    const folder = join(ctx.server.home, '.config', 'claude-tiers');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeFileSync(join(folder, 'config.json'), '{}', { mode: 0o600 });
    // A speed run: its spec (deny rules for the folder as it is now) is made and kept.
    const first = await readOnSpeedTier(join(folder, 'config.json'));
    expect(first.isError, textOf(first)).toBeFalsy();
    // The folder moves into a dotfiles repository and a link takes its place; the config gets a token.
    const dotfiles = mkdtempSync(join(tmpdir(), 'ct-dotfiles-'));
    const moved = join(dotfiles, 'claude-tiers');
    renameSync(folder, moved);
    symlinkSync(moved, folder);
    writeFileSync(
      join(moved, 'config.json'),
      JSON.stringify({ httpTokens: [{ name: 'ops', token: SECRET, admin: true }] }),
    );
    const through = textOf(await readOnSpeedTier(join(folder, 'config.json')));
    const direct = textOf(await readOnSpeedTier(join(moved, 'config.json')));
    console.log(JSON.stringify({ through: through.slice(0, 200), direct: direct.slice(0, 200) }));
    expect(through).not.toContain(SECRET);
    expect(direct).not.toContain(SECRET);
  }, 240_000);
});
