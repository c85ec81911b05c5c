import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guardDecision, guardEntry, guardHooks } from '../../src/isolation/path-guard.js';

// The PreToolUse guard of a sandboxed run's file tools, decided at each call (the e2e proof through the real claude is
// in sandbox-read.test.ts): a path in the state dir outside the task's folder, or a search from above it, is refused.
function layout() {
  const stateDir = mkdtempSync(join(tmpdir(), 'ct-guard-'));
  const own = join(stateDir, 'worktrees', 't_own');
  mkdirSync(join(own, 'src'), { recursive: true });
  mkdirSync(join(stateDir, 'worktrees', 't_later'));
  const config = join(mkdtempSync(join(tmpdir(), 'ct-guard-cfg-')), 'config.json');
  return { stateDir, own, config, scope: { stateDir, ownDir: own, hidden: [config] } };
}

describe('guardDecision', () => {
  it(
    'refuses hidden paths, searches from above them and links into them; lets the own folder and the rest ' + 'through',
    () => {
      const { stateDir, own, config, scope } = layout();
      const later = join(stateDir, 'worktrees', 't_later');
      symlinkSync(later, join(own, 'link'));
      const cwd = join(own, 'src');
      const no = (tool: string, input: object) => expect(guardDecision(scope, tool, input, cwd, '/root')).toBeDefined();
      const yes = (tool: string, input: object) =>
        expect(guardDecision(scope, tool, input, cwd, '/root')).toBeUndefined();
      no('Read', { file_path: join(later, 'x') });
      no('Read', { file_path: '../../t_later/x' });
      no('Read', { file_path: join(own, 'link', 'x') });
      no('Write', { file_path: join(stateDir, 'audit.key') });
      no('NotebookEdit', { notebook_path: config });
      no('Grep', { pattern: 'x', path: stateDir });
      no('Grep', { pattern: 'x', path: tmpdir() });
      no('Glob', { pattern: `${stateDir}/**/x` });
      no('Glob', { pattern: '../../**', path: cwd });
      no('Glob', { pattern: '*', path: join(stateDir, 'worktrees') });
      yes('Read', { file_path: join(cwd, 'a.txt') });
      yes('Read', { file_path: '/etc/hostname' });
      yes('Grep', { pattern: 'x' });
      yes('Glob', { pattern: '**/*.ts' });
      yes('Grep', { pattern: 'x', path: '/usr/share' });
      yes('Bash', { command: `cat ${later}/x` });
    },
  );
});

describe('guardDecision, the own folder against what it holds', () => {
  it('refuses a state dir under the cwd of a task without a worktree (the deny wins over the own folder)', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ct-guard-cwd-'));
    const stateDir = join(cwd, '.state');
    mkdirSync(join(stateDir, 'tasks'), { recursive: true });
    const scope = { stateDir, ownDir: cwd, hidden: [] };
    const decide = (tool: string, input: object) => guardDecision(scope, tool, input, cwd, '/root');
    expect(decide('Read', { file_path: join(stateDir, 'audit.key') })).toMatch(/sandbox hides/);
    expect(decide('Read', { file_path: '.state/tasks/t_1/record.json' })).toMatch(/sandbox hides/);
    expect(decide('Write', { file_path: join(stateDir, 'x') })).toMatch(/sandbox hides/);
    expect(decide('Grep', { pattern: 'x', path: stateDir })).toMatch(/sandbox hides/);
    expect(decide('Read', { file_path: join(cwd, 'src', 'a.ts') })).toBeUndefined();
    // Its worktree inside the state dir stays open to a task that has one.
    const own = join(stateDir, 'worktrees', 't_own');
    mkdirSync(own, { recursive: true });
    const withTree = { stateDir, ownDir: own, hidden: [] };
    expect(guardDecision(withTree, 'Read', { file_path: join(own, 'a') }, own, '/root')).toBeUndefined();
    expect(guardDecision(withTree, 'Read', { file_path: join(stateDir, 'audit.key') }, own, '/root')).toBeDefined();
  });

  it('refuses an entry of a hidden folder whose name starts with two dots (`..x` lies inside, not above)', () => {
    const { stateDir, own, scope } = layout();
    mkdirSync(join(stateDir, '..x'));
    writeFileSync(join(stateDir, '..x', 'secret'), 'key\n');
    const decide = (tool: string, input: object) => guardDecision(scope, tool, input, own, '/root');
    expect(decide('Read', { file_path: join(stateDir, '..x', 'secret') })).toMatch(/sandbox hides/);
    expect(decide('Read', { file_path: join(stateDir, '..audit.key') })).toMatch(/sandbox hides/);
    expect(decide('Grep', { pattern: 'x', path: join(stateDir, '..x') })).toMatch(/sandbox hides/);
    // The own folder's own `..x` stays its own.
    mkdirSync(join(own, '..x'));
    expect(decide('Read', { file_path: join(own, '..x', 'a') })).toBeUndefined();
  });

  it("refuses a write into any .claude folder (claude's settings and hooks), and lets reads through", () => {
    const { own, scope } = layout();
    const decide = (tool: string, input: object) => guardDecision(scope, tool, input, own, '/root');
    expect(decide('Write', { file_path: join(own, '.claude', 'settings.local.json') })).toMatch(/\.claude folder/);
    expect(decide('Edit', { file_path: 'sub/.claude/settings.json' })).toMatch(/\.claude folder/);
    expect(decide('MultiEdit', { file_path: join(own, '.claude', 'commands', 'x.md') })).toMatch(/\.claude folder/);
    expect(decide('NotebookEdit', { notebook_path: join(own, 'a', '.claude', 'n.ipynb') })).toMatch(/\.claude/);
    expect(decide('Read', { file_path: join(own, '.claude', 'settings.json') })).toBeUndefined();
    expect(decide('Write', { file_path: join(own, '.claudefile') })).toBeUndefined();
  });

  it(
    'looks for .claude only below the own folder or cwd: a state dir or repo under some .claude folder is ' +
      'writable',
    () => {
      // A configured stateDir under ~/.claude (its worktree is the own folder), and a repo cloned under a .claude
      // folder.
      const home = mkdtempSync(join(tmpdir(), 'ct-guard-home-'));
      const stateDir = join(home, '.claude', 'tiers-state');
      const own = join(stateDir, 'worktrees', 't_own');
      mkdirSync(own, { recursive: true });
      const scope = { stateDir, ownDir: own, hidden: [] };
      const inTree = (tool: string, input: object) => guardDecision(scope, tool, input, own, home);
      expect(inTree('Write', { file_path: join(own, 'src', 'a.ts') })).toBeUndefined();
      expect(inTree('Edit', { file_path: 'README.md' })).toBeUndefined();
      expect(inTree('Write', { file_path: join(own, '.claude', 'settings.json') })).toMatch(/\.claude folder/);
      expect(inTree('Write', { file_path: join(home, '.claude', 'settings.json') })).toMatch(/\.claude folder/);
      const repo = join(home, 'work', '.claude', 'skills', 'repo');
      mkdirSync(repo, { recursive: true });
      const plain = { stateDir: join(home, 'state'), ownDir: repo, hidden: [] };
      const inRepo = (tool: string, input: object) => guardDecision(plain, tool, input, repo, home);
      expect(inRepo('Write', { file_path: join(repo, 'index.ts') })).toBeUndefined();
      expect(inRepo('MultiEdit', { file_path: 'lib/x.ts' })).toBeUndefined();
      expect(inRepo('Write', { file_path: join(repo, 'lib', '.claude', 'commands', 'x.md') })).toMatch(
        /\.claude folder/,
      );
    },
  );
});

// Whether the temp dir's file system ignores case (macOS's default APFS, Windows); ext4 and tmpfs here do not.
function caseInsensitiveTmp(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'ct-case-'));
  writeFileSync(join(dir, 'probe'), '');
  return existsSync(join(dir, 'PROBE'));
}

describe('guardDecision on a case-insensitive file system', () => {
  it.runIf(caseInsensitiveTmp())('refuses a hidden path spelled in another case', () => {
    const { stateDir, scope } = layout();
    writeFileSync(join(stateDir, 'audit.key'), 'k');
    // The state dir's own name in upper case: the same folder, a string no rule names.
    const upper = join(dirname(stateDir), basename(stateDir).toUpperCase());
    const decide = (path: string) => guardDecision(scope, 'Read', { file_path: path }, scope.ownDir, '/root');
    expect(decide(join(upper, 'audit.key'))).toMatch(/sandbox hides/);
    expect(decide(join(upper, 'worktrees', 't_later', 'x'))).toMatch(/sandbox hides/);
    expect(decide(join(upper, 'worktrees', 't_own', 'src', 'a'))).toBeUndefined();
  });
});

describe('the hook entry point', () => {
  const run = (arg: string, stdin: string) =>
    spawnSync(process.execPath, [guardEntry(), arg], { input: stdin, encoding: 'utf8' });
  it('prints a deny decision for a hidden path and nothing for an allowed one', () => {
    const { stateDir, own, scope } = layout();
    const arg = Buffer.from(JSON.stringify(scope)).toString('base64url');
    const denied = run(
      arg,
      JSON.stringify({ tool_name: 'Read', tool_input: { file_path: join(stateDir, 'audit.key') }, cwd: own }),
    );
    expect(denied.status).toBe(0);
    expect(JSON.parse(denied.stdout).hookSpecificOutput).toMatchObject({ permissionDecision: 'deny' });
    const allowed = run(
      arg,
      JSON.stringify({ tool_name: 'Read', tool_input: { file_path: join(own, 'a') }, cwd: own }),
    );
    expect([allowed.status, allowed.stdout]).toEqual([0, '']);
    expect(guardHooks(scope)).toMatchObject({ PreToolUse: [{ matcher: expect.stringContaining('Read|') }] });
  });
  it('blocks the call (exit 2) when it cannot decide', () => {
    expect(run('not-json', '{}').status).toBe(2);
    expect(run(Buffer.from('{}').toString('base64url'), 'not json').status).toBe(2);
  });
});
