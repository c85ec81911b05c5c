import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeBinaryOf } from '../../src/claude/find-binary.js';
import { ProcessTable, spawnClaude } from '../../src/claude/spawn.js';

// A server finds its claude once (no stat on every run); one removed later fails at its spawn, which says so.
describe('the claude binary of a server', () => {
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
});
