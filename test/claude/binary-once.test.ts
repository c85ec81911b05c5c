import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeContainment } from '../../src/claude/contain.js';
import { claudeBinaryOf, findClaude } from '../../src/claude/find-binary.js';
import { ProcessTable, spawnClaude } from '../../src/claude/spawn.js';
import { REAL_CLAUDE, startServer, textOf, waitFor } from '../support/harness.js';
import { startScriptedApi } from '../support/scripted-api.js';

// How this machine contains claude (a PID namespace where the kernel allows it), as a server here would.
const containment = probeContainment();

// A claude of its own at `path`: a program running the real one, not a link to it (a link is resolved once, when it
// is found, and the real path is what runs: removing the link removes nothing the server runs).
const installClaude = (path: string): void => {
  writeFileSync(path, `#!/bin/sh\nexec "${REAL_CLAUDE}" "$@"\n`);
  chmodSync(path, 0o755);
};

// A server finds its claude once (no stat on every run); one removed later fails at its spawn, which says so.
describe('the claude binary of a server', () => {
  it('is never a relative path: a configured one is refused by name, relative PATH entries are skipped', () => {
    // A run spawns claude from its own folder, where a relative path names a file of the task's tree.
    expect(() => findClaude({ env: { CLAUDE_TIERS_CLAUDE_BIN: 'node_modules/.bin/claude' } })).toThrow(
      /CLAUDE_TIERS_CLAUDE_BIN is node_modules\/\.bin\/claude, a relative path; give an absolute one/,
    );
    expect(() => findClaude({ env: {}, configured: './claude' })).toThrow(
      /the config's claudeBin is \.\/claude, a rel/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'ct-relpath-'));
    try {
      writeFileSync(join(dir, 'claude'), '#!/bin/sh\nexit 0\n');
      chmodSync(join(dir, 'claude'), 0o755);
      const abs = findClaude({ env: { PATH: dir } });
      expect(abs).toEqual({ path: join(dir, 'claude'), source: 'PATH' });
      const found = findClaude({ env: { PATH: `ct-relative-dir:${dir}` } });
      expect(found.path).toBe(join(dir, 'claude'));
      // The loaded config's claudeBin (--claude-bin over the environment) is the one used, as --print-config shows.
      const flagged = findClaude({ env: { CLAUDE_TIERS_CLAUDE_BIN: './claude' }, configured: join(dir, 'claude') });
      expect(flagged).toEqual({ path: join(dir, 'claude'), source: 'config' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is its real path, found once: a link swapped later does not redirect what the server runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-link-'));
    try {
      writeFileSync(join(dir, 'real'), '#!/bin/sh\nexit 0\n');
      writeFileSync(join(dir, 'other'), '#!/bin/sh\nexit 1\n');
      chmodSync(join(dir, 'real'), 0o755);
      chmodSync(join(dir, 'other'), 0o755);
      mkdirSync(join(dir, 'bin'));
      symlinkSync(join(dir, 'real'), join(dir, 'bin', 'claude'));
      const binary = claudeBinaryOf({ PATH: join(dir, 'bin') }, 0, { maxDepth: 2 });
      expect(binary()).toEqual({ path: realpathSync(join(dir, 'real')), source: 'PATH' });
      rmSync(join(dir, 'bin', 'claude'));
      symlinkSync(join(dir, 'other'), join(dir, 'bin', 'claude'));
      expect(binary().path).toBe(realpathSync(join(dir, 'real')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is never one on PATH in a folder a task may write (a root, the state dir): skipped, with a warning', () => {
    const roots = mkdtempSync(join(tmpdir(), 'ct-roots-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'ct-bin-'));
    const link = join(tmpdir(), `ct-link-${process.pid}-${Date.now()}`);
    try {
      mkdirSync(join(roots, 'proj', 'node_modules', '.bin'), { recursive: true });
      installClaude(join(roots, 'proj', 'node_modules', '.bin', 'claude'));
      installClaude(join(elsewhere, 'claude'));
      // The project's folder through a link made outside the roots, as a shell's $PWD may name it.
      symlinkSync(join(roots, 'proj'), link);
      const warnings: string[] = [];
      const warn = (w: string) => void warnings.push(w);
      const env = { PATH: `${join(link, 'node_modules', '.bin')}:${elsewhere}` };
      const found = findClaude({ env, writable: [roots], warn });
      expect(found).toEqual({ path: realpathSync(join(elsewhere, 'claude')), source: 'PATH' });
      expect(warnings.join('\n')).toMatch(/node_modules\/\.bin\/claude on PATH is skipped: .*CLAUDE_TIERS_CLAUDE_BIN/);
      // The state dir counts too; a configured one is kept (the operator named it; sandboxed runs cannot write it).
      expect(findClaude({ env, writable: [join(roots, 'proj')] }).path).toBe(realpathSync(join(elsewhere, 'claude')));
      warnings.length = 0;
      const pinned = join(roots, 'proj', 'node_modules', '.bin', 'claude');
      expect(findClaude({ env: { CLAUDE_TIERS_CLAUDE_BIN: pinned }, writable: [roots], warn }).path).toBe(
        realpathSync(pinned),
      );
      expect(warnings).toEqual([]);
    } finally {
      rmSync(link, { force: true });
      rmSync(roots, { recursive: true, force: true });
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('is found once; removed later, the spawn says claude is gone and how to fix it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-bin-'));
    const bin = join(dir, 'claude');
    writeFileSync(bin, '#!/bin/sh\nexit 0\n');
    chmodSync(bin, 0o755);
    const binary = claudeBinaryOf({ CLAUDE_TIERS_CLAUDE_BIN: bin }, 0, { maxDepth: 2 });
    expect(binary()).toEqual({ path: bin, source: 'CLAUDE_TIERS_CLAUDE_BIN' });
    rmSync(bin);
    expect(binary().path).toBe(bin);
    const proc = spawnClaude(
      { bin, args: [], cwd: dir, env: {}, onLine: () => {}, maxLineBytes: 1024 },
      new ProcessTable({ kind: 'none', why: 'test' }),
    );
    expect((await proc.exited).exitCode).not.toBe(0);
    expect(proc.stderrTail()).toMatch(new RegExp(`claude not found: ${bin} is not there any more`));
  });

  it('is looked for again while none is found (installed after start-up)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-bin-'));
    const bin = join(dir, 'claude');
    const binary = claudeBinaryOf({ CLAUDE_TIERS_CLAUDE_BIN: bin }, 0, { maxDepth: 2 });
    expect(() => binary()).toThrow(/claude not found/);
    writeFileSync(bin, '#!/bin/sh\nexit 0\n');
    chmodSync(bin, 0o755);
    expect(binary().path).toBe(bin);
  });

  it(`removed later, is said gone under this machine's containment (${containment.kind}), naming claude`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-bin-'));
    const bin = join(dir, 'claude');
    writeFileSync(bin, '#!/bin/sh\nexit 0\n');
    chmodSync(bin, 0o755);
    const binary = claudeBinaryOf({ CLAUDE_TIERS_CLAUDE_BIN: bin }, 0, { maxDepth: 2 });
    expect(binary().path).toBe(bin);
    rmSync(bin);
    const proc = spawnClaude(
      { bin, args: [], cwd: dir, env: {}, onLine: () => {}, maxLineBytes: 1024 },
      new ProcessTable(containment),
    );
    const exit = await proc.exited;
    expect(exit.exitCode).not.toBe(0);
    expect(exit.binaryGone).toBe(bin);
    expect(proc.stderrTail()).toMatch(new RegExp(`^claude not found: ${bin} is not there any more`));
    binary.forget(bin);
    expect(() => binary()).toThrow(/CLAUDE_TIERS_CLAUDE_BIN is set to .*not an executable file/);
  });

  it('removed while the server runs, fails one call saying so; the next call finds claude again', async () => {
    const api = await startScriptedApi();
    const first = mkdtempSync(join(tmpdir(), 'ct-bin-path-'));
    const later = mkdtempSync(join(tmpdir(), 'ct-bin-path-'));
    installClaude(join(first, 'claude'));
    const server = await startServer(api, {
      env: { CLAUDE_TIERS_CLAUDE_BIN: '', PATH: [first, later, process.env.PATH].join(':') },
    });
    try {
      const ask = async () => server.client.callTool({ name: 'quick_answer', arguments: { prompt: 'say hi' } });
      expect((await ask()).isError).toBeFalsy();
      rmSync(join(first, 'claude'));
      const gone = await ask();
      expect(gone.isError).toBe(true);
      expect(textOf(gone)).toContain(`claude not found: ${join(first, 'claude')} is not there any more`);
      installClaude(join(later, 'claude'));
      const again = await ask();
      expect(textOf(again)).not.toMatch(/not found/);
      expect(again.isError).toBeFalsy();
    } finally {
      await server.close();
      await api.close();
    }
  }, 120_000);

  it('removed while a warm spare waits, no spare is spawned from it again; one found after it keeps them', async () => {
    const api = await startScriptedApi();
    const first = mkdtempSync(join(tmpdir(), 'ct-bin-path-'));
    installClaude(join(first, 'claude'));
    const server = await startServer(api, {
      spares: 1,
      env: { CLAUDE_TIERS_CLAUDE_BIN: '', PATH: [first, process.env.PATH].join(':') },
    });
    type Spares = { spawned: number; ready_pids: number[] };
    const spares = async () =>
      (
        (await server.client.callTool({ name: 'server_stats', arguments: {} })).structuredContent as {
          spares: Spares;
        }
      ).spares;
    try {
      expect(await waitFor(async () => (await spares()).ready_pids.length === 1, 30_000, 200)).toBe(true);
      const before = await spares();
      rmSync(join(first, 'claude'));
      // The spare dies: the pool finds its binary gone (its own exit, or the one spawned in its place).
      process.kill(before.ready_pids[0]!, 'SIGKILL');
      // Before, the pool spawned the missing file again after 1, 2, 4 s ... (its backoff), for ever.
      await new Promise((r) => setTimeout(r, 8000));
      const after = await spares();
      expect(after.spawned - before.spawned).toBeLessThanOrEqual(1);
      expect(after.ready_pids).toEqual([]);
      // The next call finds another claude (the package's own), and the tier's spares are kept warm from it.
      const again = await server.client.callTool({ name: 'quick_answer', arguments: { prompt: 'say hi' } });
      expect(again.isError, textOf(again)).toBeFalsy();
      expect(await waitFor(async () => (await spares()).ready_pids.length === 1, 30_000, 200)).toBe(true);
    } finally {
      await server.close();
      await api.close();
    }
  }, 120_000);
});
