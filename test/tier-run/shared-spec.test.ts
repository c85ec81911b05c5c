import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClaudeBinary } from '../../src/claude/find-binary.js';
import type { RunSpec } from '../../src/claude/run.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { SpecCache } from '../../src/tier-run/spec-cache.js';
import { sharedSpec, type SpecDeps } from '../../src/tier-run/tier-run.js';

// The spec of a run with its tier's shared files depends on the call only through its tier, cwd, model and flags:
// it is worked out once for each (files, binary, argv, environment), except a modular tier's, whose appended text
// holds the CLAUDE.md files as they are at each run.
function server(binary: () => ClaudeBinary = () => ({ path: '/bin/true', source: 'config' })) {
  const cwd = mkdtempSync(join(tmpdir(), 'ct-spec-cwd-'));
  const config = defaultConfig({}, tmpdir());
  config.stateDir = mkdtempSync(join(tmpdir(), 'ct-spec-state-'));
  config.allowedRoots = [cwd];
  const hidden = mkdtempSync(join(tmpdir(), 'ct-spec-config-'));
  let lookups = 0;
  // The folders whose spares were retired (their files were found changed).
  const retired: string[] = [];
  // The user's config file: not there at start-up.
  const later = join(hidden, 'later.json');
  const lookup = () => {
    lookups++;
    return binary();
  };
  const deps: SpecDeps = {
    config,
    env: {},
    depth: 0,
    claudeBinary: Object.assign(lookup, { forget: () => {}, watch: () => {} }),
    configCandidates: [hidden, later],
    sharedSpecs: new SpecCache(),
    spares: { retireNaming: (dir) => retired.push(dir) },
  };
  return { deps, cwd, hidden, later, retired, lookups: () => lookups };
}

const fileArg = (spec: RunSpec, flag: string): string =>
  spec.args.find((a) => a.startsWith(`--${flag}=`))!.slice(flag.length + 3);

describe('sharedSpec', () => {
  it(
    "is worked out once per tier, cwd, model and flags; its settings keep the file tools off the user's " + 'config',
    async () => {
      const s = server();
      const tier = s.deps.config.tiers.speed!;
      const first = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku');
      expect(await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku')).toBe(first);
      expect(s.lookups()).toBe(1);
      const settings = readFileSync(fileArg(first, 'settings'), 'utf8');
      expect(settings).toContain(`Read(/${s.hidden}/**)`);
      expect(settings).toContain(`Read(/${s.deps.config.stateDir}/**)`);
      const other = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'sonnet');
      expect(other).not.toBe(first);
      expect(other.args).toContain('--model=sonnet');
      const flagged = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku', { maxBudgetUsd: 0.5 });
      expect(flagged.args).toContain('--max-budget-usd=0.5');
      expect(s.lookups()).toBe(3);
      // A flag that is off, however it is spelled, is the same run: the quick path's `{}` and a deep task's flags.
      const spelled = { maxTurns: undefined, forwardPermissions: false, forkSession: false };
      expect(await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku', spelled)).toBe(first);
      expect(s.lookups()).toBe(3);
    },
  );

  it("of a modular tier holds the cwd's CLAUDE.local.md as it is at each run", async () => {
    const s = server();
    const tier = { ...s.deps.config.tiers.comprehensive!, mcpConfig: null };
    const memory = join(s.cwd, 'CLAUDE.local.md');
    writeFileSync(memory, 'FIRST_MEMORY');
    const first = await sharedSpec(s.deps, 'comprehensive', tier, s.cwd, 'opus');
    expect(readFileSync(fileArg(first, 'append-system-prompt-file'), 'utf8')).toContain('FIRST_MEMORY');
    writeFileSync(memory, 'SECOND_MEMORY');
    const second = await sharedSpec(s.deps, 'comprehensive', tier, s.cwd, 'opus');
    expect(readFileSync(fileArg(second, 'append-system-prompt-file'), 'utf8')).toContain('SECOND_MEMORY');
  });

  it('that failed is worked out again on the next run', async () => {
    let missing = true;
    const s = server(() => {
      if (missing) throw new Error('claude not found');
      return { path: '/bin/true', source: 'config' };
    });
    const tier = s.deps.config.tiers.speed!;
    await expect(sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku')).rejects.toThrow(/claude not found/);
    missing = false;
    expect((await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku')).bin).toBe('/bin/true');
  });

  it("hides a user config file made after start-up from the next run's file tools", async () => {
    const s = server();
    const tier = s.deps.config.tiers.speed!;
    const first = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku');
    expect(readFileSync(fileArg(first, 'settings'), 'utf8')).not.toContain(s.later);
    writeFileSync(s.later, '{}');
    const second = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku');
    expect(readFileSync(fileArg(second, 'settings'), 'utf8')).toContain(`Read(/${s.later})`);
    expect(await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku')).toBe(second);
    // Removed again: the spec is made again without it.
    rmSync(s.later);
    const third = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku');
    expect(third).not.toBe(second);
    expect(readFileSync(fileArg(third, 'settings'), 'utf8')).not.toContain(s.later);
  });

  it("is made again when the tier's MCP config file is edited", async () => {
    const s = server();
    const mcp = join(mkdtempSync(join(tmpdir(), 'ct-spec-mcp-')), 'mcp.json');
    const servers = (name: string) => ({ mcpServers: { [name]: { command: '/bin/true', args: [] } } });
    writeFileSync(mcp, JSON.stringify(servers('first_server')));
    const tier = { ...s.deps.config.tiers.speed!, mcpConfig: mcp };
    const first = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku');
    expect(readFileSync(fileArg(first, 'mcp-config'), 'utf8')).toContain('first_server');
    expect(await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku')).toBe(first);
    writeFileSync(mcp, JSON.stringify(servers('second_server_edited')));
    const second = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku');
    expect(readFileSync(fileArg(second, 'mcp-config'), 'utf8')).toContain('second_server_edited');
  });

  it('is made again when its files were removed from outside (stateDir/spare-files/<hash>)', async () => {
    const s = server();
    const tier = s.deps.config.tiers.speed!;
    const first = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku');
    const settings = fileArg(first, 'settings');
    expect(dirname(dirname(settings))).toBe(join(s.deps.config.stateDir, 'spare-files'));
    rmSync(dirname(settings), { recursive: true });
    const second = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku');
    expect(existsSync(fileArg(second, 'settings'))).toBe(true);
    expect(readFileSync(fileArg(second, 'settings'), 'utf8')).toContain(`Read(/${s.hidden}/**)`);
  });
  it('is made again, its file written again, when one file was removed from its folder (not the folder)', async () => {
    const s = server();
    const tier = s.deps.config.tiers.speed!;
    const first = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku');
    const settings = fileArg(first, 'settings');
    rmSync(settings);
    expect(existsSync(dirname(settings))).toBe(true);
    const second = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku');
    expect(second).not.toBe(first);
    expect(readFileSync(fileArg(second, 'settings'), 'utf8')).toContain(`Read(/${s.hidden}/**)`);
    expect(statSync(fileArg(second, 'settings')).mode & 0o777).toBe(0o600);
  });

  it("is made again when the tier's MCP config is edited in place to the same size, its mtime kept", async () => {
    const s = server();
    const mcp = join(mkdtempSync(join(tmpdir(), 'ct-spec-mcp-')), 'mcp.json');
    const servers = (name: string) => JSON.stringify({ mcpServers: { [name]: { command: '/bin/true', args: [] } } });
    // One whole second for both: a same-size edit within one tick of the file system's clock looks like this.
    const tick = 1_700_000_000;
    writeFileSync(mcp, servers('server_one'));
    utimesSync(mcp, tick, tick);
    const tier = { ...s.deps.config.tiers.speed!, mcpConfig: mcp };
    const first = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku');
    expect(readFileSync(fileArg(first, 'mcp-config'), 'utf8')).toContain('server_one');
    writeFileSync(mcp, servers('server_two'));
    utimesSync(mcp, tick, tick);
    const second = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku');
    expect(readFileSync(fileArg(second, 'mcp-config'), 'utf8')).toContain('server_two');
  });

  it("is made again when a file holds another text (a task's write): written again, spares retired", async () => {
    const s = server();
    const tier = s.deps.config.tiers.speed!;
    const first = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku');
    const other = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'sonnet');
    const settings = fileArg(first, 'settings');
    expect(fileArg(other, 'settings')).toBe(settings);
    const own = readFileSync(settings, 'utf8');
    expect(s.retired).toEqual([]);
    writeFileSync(settings, JSON.stringify({ hooks: { SessionStart: [] } }));
    const second = await sharedSpec(s.deps, 'speed', tier, s.cwd, 'haiku');
    expect(second).not.toBe(first);
    expect(readFileSync(settings, 'utf8')).toBe(own);
    expect(statSync(settings).mode & 0o777).toBe(0o600);
    expect(s.retired).toEqual([dirname(settings)]);
    // The other spec of that folder finds the text as written again: kept, nothing more retired.
    expect(await sharedSpec(s.deps, 'speed', tier, s.cwd, 'sonnet')).toBe(other);
    expect(s.retired).toHaveLength(1);
  });
});
