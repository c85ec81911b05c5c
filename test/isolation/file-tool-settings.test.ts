import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildClaudeArgs } from '../../src/claude/args.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { fileToolSettings } from '../../src/isolation/sandbox-settings.js';
import { planShared } from '../../src/tiers.js';

// An unsandboxed run's settings: the Read deny rules of hiddenRules, and the path guard only where they cannot cover
// the whole state dir (the run's own folder lies in it).
describe('fileToolSettings', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'ct-ftset-'));
  mkdirSync(join(stateDir, 'worktrees', 't_own'), { recursive: true });
  const config = join(mkdtempSync(join(tmpdir(), 'ct-ftset-cfg-')), 'config.json');

  it('a cwd outside the state dir: one rule for all of it and one for the config, no guard', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ct-ftset-cwd-'));
    const s = fileToolSettings({ stateDir, ownDir: cwd, hidden: [config] });
    expect(s).toEqual({
      permissions: {
        deny: [`Read(/${stateDir})`, `Read(/${stateDir}/**)`, `Read(/${config})`, `Read(/${config}/**)`],
      },
    });
  });

  it(
    'a worktree inside the state dir: its siblings denied, itself not, and the path guard for what comes ' + 'later',
    () => {
      const own = join(stateDir, 'worktrees', 't_own');
      const s = fileToolSettings({ stateDir, ownDir: own, hidden: [] }) as {
        permissions: { deny: string[] };
        hooks?: unknown;
      };
      expect(s.permissions.deny).toContain(`Read(/${join(stateDir, 'tasks')}/**)`);
      expect(s.permissions.deny.some((r) => r === `Read(/${own})` || r === `Read(/${own}/**)`)).toBe(false);
      expect(JSON.stringify(s.hooks)).toContain('path-guard-main.js');
    },
  );

  it("the speed tier's shared files carry them, and its argv names the file", async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ct-ftset-cwd-'));
    const speed = defaultConfig({}, tmpdir()).tiers.speed!;
    const plan = await planShared('speed', speed, cwd, { stateDir, ownDir: cwd, hidden: [config] });
    expect(plan.settingsFile).toMatch(/spare-files\/[0-9a-f]{16}\/settings\.json$/);
    expect(buildClaudeArgs(speed, plan)).toContain(`--settings=${plan.settingsFile}`);
    // The same server, the same cwd: the same file (a warm spare's key does not change).
    expect((await planShared('speed', speed, cwd, { stateDir, ownDir: cwd, hidden: [config] })).settingsFile).toBe(
      plan.settingsFile,
    );
  });
});
