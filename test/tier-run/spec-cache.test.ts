import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunSpec } from '../../src/claude/run.js';
import { SpecCache, type MadeSpec } from '../../src/tier-run/spec-cache.js';

const spec = (name: string): RunSpec => ({ bin: name, args: [], cwd: '/', env: {}, maxLineBytes: 1 });

// Counts how often each key's spec is made.
function maker() {
  const made = new Map<string, number>();
  const make = (key: string) => async (): Promise<MadeSpec> => {
    made.set(key, (made.get(key) ?? 0) + 1);
    return { spec: spec(key) };
  };
  return { make, made: (key: string) => made.get(key) ?? 0 };
}

// The specs of runs with a tier's shared files: made once per key, the least recently asked for goes first.
describe('SpecCache', () => {
  it('keeps the specs asked for last, not the ones made first', async () => {
    const cache = new SpecCache(2);
    const m = maker();
    const get = (key: string) => cache.get(key, m.make(key));
    await get('a');
    await get('b');
    await get('a');
    await get('c');
    expect(cache.size).toBe(2);
    await get('a');
    expect(m.made('a')).toBe(1);
    await get('b');
    expect(m.made('b')).toBe(2);
  });

  it('gives callers that ask at once one promise, and makes a failed spec again', async () => {
    const cache = new SpecCache();
    let calls = 0;
    let fail = true;
    const make = async (): Promise<MadeSpec> => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      if (fail) throw new Error('no claude');
      return { spec: spec('x') };
    };
    const both = await Promise.allSettled([cache.get('k', make), cache.get('k', make)]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    fail = false;
    const [a, b] = await Promise.all([cache.get('k', make), cache.get('k', make)]);
    expect(a).toBe(b);
    expect(calls).toBe(2);
  });

  it('makes a spec whose files are gone again, once for callers that ask at once', async () => {
    const cache = new SpecCache();
    const dirs: string[] = [];
    const make = async (): Promise<MadeSpec> => {
      dirs.push(mkdtempSync(join(tmpdir(), 'ct-cache-files-')));
      return { spec: spec(`x${dirs.length}`), files: dirs.at(-1) };
    };
    const first = await cache.get('k', make);
    expect(await cache.get('k', make)).toBe(first);
    rmSync(dirs[0]!, { recursive: true });
    const [a, b] = await Promise.all([cache.get('k', make), cache.get('k', make)]);
    expect(a).toBe(b);
    expect(a.bin).toBe('x2');
    expect(dirs).toHaveLength(2);
  });
});
