import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import { configPaths, hiddenNow, hiddenRules } from '../../src/isolation/sandbox-hidden.js';
import { sandboxSettings } from '../../src/isolation/sandbox-settings.js';

// The rules that hide the state dir from a sandboxed run, computed from (state dir, the task's own folder): the
// sandbox hides the whole dir and re-opens the own folder; the file tools get one deny rule per entry beside it.
function state() {
  const dir = mkdtempSync(join(tmpdir(), 'ct-hide-'));
  for (const d of ['tasks/t_a', 'worktrees/t_own/src', 'worktrees/t_other', 'spare-files'])
    mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'audit.key'), 'k');
  return dir;
}

describe('hiddenRules', () => {
  it(
    'with the own worktree inside the state dir: denyRead the dir, allowRead the worktree, a Read rule for ' +
      'every sibling on the way',
    () => {
      const dir = state();
      const own = join(dir, 'worktrees', 't_own');
      const r = hiddenRules({ stateDir: dir, ownDir: own, hidden: [] });
      expect(r.denyRead).toEqual([dir]);
      expect(r.allowRead).toEqual([own]);
      for (const p of [
        'audit.key',
        'tasks',
        'spare-files',
        'worktrees/t_other',
        'active',
        'audit*',
        'budgets*',
        'worktrees/t_own?*',
      ]) {
        expect(r.readDeny).toContain(`Read(/${join(dir, p)})`);
        expect(r.readDeny).toContain(`Read(/${join(dir, p)}/**)`);
      }
      // Nothing that covers the own worktree or a folder above it.
      expect(
        r.readDeny.filter(
          (rule) =>
            rule === `Read(/${dir}/worktrees)` ||
            rule.startsWith(`Read(/${own})`) ||
            rule.startsWith(`Read(/${dir})`) ||
            rule === `Read(/${dir}/**)`,
        ),
      ).toEqual([]);
    },
  );

  it(
    'with the own folder outside the state dir (a sandboxed task in its cwd): the whole state dir is denied ' +
      'to both',
    () => {
      const dir = state();
      const own = mkdtempSync(join(tmpdir(), 'ct-own-'));
      const r = hiddenRules({ stateDir: dir, ownDir: own, hidden: [] });
      expect(r).toEqual({ denyRead: [dir], allowRead: [], readDeny: [`Read(/${dir})`, `Read(/${dir}/**)`] });
    },
  );

  it('refuses a run whose own folder is the state dir itself (or a link to it): nothing of it could be hidden', () => {
    const dir = state();
    const link = join(mkdtempSync(join(tmpdir(), 'ct-link-')), 'cwd');
    symlinkSync(dir, link);
    for (const ownDir of [dir, link])
      expect(() => hiddenRules({ stateDir: dir, ownDir, hidden: [] })).toThrow(/is the server's state dir/);
  });

  it('names both spellings of a linked state dir; hides a config file, never a folder that holds the own one', () => {
    const dir = state();
    const link = join(mkdtempSync(join(tmpdir(), 'ct-link-')), 'state');
    symlinkSync(dir, link);
    const config = join(mkdtempSync(join(tmpdir(), 'ct-cfg-')), 'config.json');
    writeFileSync(config, '{}');
    const own = join(link, 'worktrees', 't_own');
    const r = hiddenRules({ stateDir: link, ownDir: own, hidden: [config, join(link, 'worktrees')] });
    expect(r.denyRead).toEqual([link, dir, config]);
    expect(r.allowRead).toEqual([own, join(dir, 'worktrees', 't_own')]);
    expect(r.readDeny).toContain(`Read(/${join(link, 'audit.key')})`);
    expect(r.readDeny).toContain(`Read(/${join(dir, 'audit.key')})`);
    expect(r.readDeny).toContain(`Read(/${config}/**)`);
  });

  it('configPaths: the file read, $CLAUDE_TIERS_CONFIG and the default folder; a run hides those that exist', () => {
    const xdg = mkdtempSync(join(tmpdir(), 'ct-xdg-'));
    const file = join(xdg, 'named.json');
    const paths = configPaths({ XDG_CONFIG_HOME: xdg, CLAUDE_TIERS_CONFIG: file }, file);
    expect(paths).toEqual([file, join(xdg, 'claude-tiers')]);
    expect(hiddenNow(paths)).toEqual([]);
    mkdirSync(join(xdg, 'claude-tiers'));
    writeFileSync(file, '{}');
    expect(hiddenNow(paths)).toEqual([file, join(xdg, 'claude-tiers')]);
    expect(configPaths({ HOME: '/nonexistent-home' }, undefined)).toEqual(['/nonexistent-home/.config/claude-tiers']);
  });

  it('reaches the settings: sandbox.filesystem and the permission deny list', () => {
    const dir = state();
    const own = join(dir, 'worktrees', 't_own');
    const s = sandboxSettings(defaultConfig().tiers.sandboxed!, { stateDir: dir, ownDir: own, hidden: [] }) as {
      sandbox: Record<string, unknown>;
      permissions: { deny: string[] };
    };
    // And the cwd's .claude (here the own folder's), read-only to Bash.
    expect(s.sandbox.filesystem).toEqual({ denyRead: [dir], allowRead: [own], denyWrite: [join(own, '.claude')] });
    expect(s.permissions.deny.slice(0, 2)).toEqual(['WebFetch', 'WebSearch']);
    expect(s.permissions.deny).toContain(`Read(/${dir}/audit.key)`);
  });
});
