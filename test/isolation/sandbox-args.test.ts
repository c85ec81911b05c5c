import { describe, expect, it } from 'vitest';
import { buildClaudeArgs, buildClaudeEnv } from '../../src/claude/args.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { validateTiers } from '../../src/tiers.js';

// argv of every built-in tier: only the sandboxed tier skips permissions, and only with its sandbox settings.
describe('sandboxed tier argv', () => {
  it('only the sandboxed tier ever produces bypassPermissions, always with the sandbox settings and IS_SANDBOX', () => {
    const tiers = defaultConfig().tiers;
    expect(Object.keys(tiers)).toEqual(['speed', 'comprehensive', 'sandboxed']);
    for (const [name, tier] of Object.entries(tiers)) {
      const argv = buildClaudeArgs(tier, { mcpConfigPath: null });
      const env = buildClaudeEnv(tier, {}, 0);
      const bypass = argv.some((a) => a.includes('bypassPermissions'));
      const settings = argv.find((a) => a.startsWith('--settings='));
      expect(argv.some((a) => a.includes('dangerously'))).toBe(false);
      expect({ name, bypass, sandbox: !!settings, isSandbox: env.IS_SANDBOX }).toEqual(
        name === 'sandboxed'
          ? { name, bypass: true, sandbox: true, isSandbox: '1' }
          : { name, bypass: false, sandbox: false, isSandbox: undefined },
      );
      if (settings) {
        const json = JSON.parse(settings.slice('--settings='.length));
        expect(json.sandbox).toMatchObject({
          enabled: true,
          failIfUnavailable: true,
          autoAllowBashIfSandboxed: true,
          allowUnsandboxedCommands: false,
          network: { strictAllowlist: true, allowedDomains: [] },
        });
        expect(json.permissions).toMatchObject({
          blockWritesOutsideWorkingDirectories: true,
          deny: ['WebFetch', 'WebSearch'],
        });
      }
    }
  });

  it('takes the settings from a file when the engine wrote one', () => {
    const argv = buildClaudeArgs(defaultConfig().tiers.sandboxed!, {
      mcpConfigPath: null,
      settingsFile: '/run/dir/settings.json',
    });
    expect(argv).toContain('--settings=/run/dir/settings.json');
  });

  it('allows bypassPermissions only with the sandbox on, or dangerouslySkipPermissions set by the operator', () => {
    const config = defaultConfig();
    expect(() => validateTiers(config)).not.toThrow();
    const sandboxed = config.tiers.sandboxed!;
    config.tiers.sandboxed = { ...sandboxed, sandbox: { enabled: false, network: { allowedDomains: [] } } };
    expect(() => validateTiers(config)).toThrow(
      /tiers\.sandboxed\.permissionMode: "bypassPermissions" needs the tier's sandbox enabled/,
    );
    config.tiers.sandboxed = { ...sandboxed, sandbox: undefined, dangerouslySkipPermissions: true };
    expect(() => validateTiers(config)).not.toThrow();
  });

  it("loads no settings from the task's tree in any tier, and keeps a sandboxed task's cwd/.claude read-only", () => {
    for (const tier of Object.values(defaultConfig().tiers)) {
      const argv = buildClaudeArgs(tier, { mcpConfigPath: null });
      expect(argv.filter((a) => a.startsWith('--setting-sources'))).toEqual(['--setting-sources=user']);
      expect(argv).toContain('--strict-mcp-config');
      // A modular tier still gets the cwd's CLAUDE.md, as the memory of an added folder (no settings come with it).
      const modular = tier.contextMode === 'modular';
      expect([
        argv.includes('--add-dir=.'),
        buildClaudeEnv(tier, {}, 0).CLAUDE_CODE_ADDITIONAL_DIRECTORIES_CLAUDE_MD,
      ]).toEqual(modular ? [true, '1'] : [false, undefined]);
    }
    const scope = { stateDir: '/state', ownDir: '/state/worktrees/t_1', hidden: [], cwd: '/state/worktrees/t_1/sub' };
    const argv = buildClaudeArgs(defaultConfig().tiers.sandboxed!, { mcpConfigPath: null, sandboxScope: scope });
    const json = JSON.parse(argv.find((a) => a.startsWith('--settings='))!.slice('--settings='.length));
    expect(json.sandbox.filesystem.denyWrite).toEqual(['/state/worktrees/t_1/sub/.claude']);
  });
});
