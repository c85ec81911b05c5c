import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSpec } from '../../src/claude/run.js';
import { fileStamp, SpecCache, type MadeSpec } from '../../src/tier-run/spec-cache.js';

// The temp folders the tests make, removed when they are done.
const temps: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

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
      dirs.push(tempDir('ct-cache-files-'));
      const path = join(dirs.at(-1)!, 'settings.json');
      writeFileSync(path, '{}');
      return { spec: { ...spec(`x${dirs.length}`), files: [{ path, text: '{}' }] } };
    };
    const first = await cache.get('k', make);
    expect(await cache.get('k', make)).toBe(first);
    rmSync(dirs[0]!, { recursive: true });
    const [a, b] = await Promise.all([cache.get('k', make), cache.get('k', make)]);
    expect(a).toBe(b);
    expect(a.bin).toBe('x2');
    expect(dirs).toHaveLength(2);
  });
  it('makes a spec again when one of its files is gone, the others and their folder still there', async () => {
    const cache = new SpecCache();
    const dir = tempDir('ct-cache-some-');
    const files = ['mcp.json', 'settings.json'].map((name) => join(dir, name));
    let made = 0;
    const make = async (): Promise<MadeSpec> => {
      for (const f of files) writeFileSync(f, '{}');
      return { spec: { ...spec(`x${++made}`), files: files.map((path) => ({ path, text: '{}' })) } };
    };
    const first = await cache.get('k', make);
    expect(await cache.get('k', make)).toBe(first);
    rmSync(files[1]!);
    expect((await cache.get('k', make)).bin).toBe('x2');
  });

  it('makes a spec again when one of its files holds another text (same size, mtime put back)', async () => {
    const cache = new SpecCache();
    const dir = tempDir('ct-cache-changed-');
    const files = ['system-prompt.txt', 'settings.json'].map((name) => join(dir, name));
    const tick = 1_700_000_000;
    let made = 0;
    const make = async (): Promise<MadeSpec> => {
      for (const f of files) {
        writeFileSync(f, 'OWN_TEXT');
        utimesSync(f, tick, tick);
      }
      return { spec: { ...spec(`x${++made}`), files: files.map((path) => ({ path, text: 'OWN_TEXT' })) } };
    };
    const first = await cache.get('k', make);
    expect(await cache.get('k', make)).toBe(first);
    writeFileSync(files[0]!, 'TASKTEXT');
    utimesSync(files[0]!, tick, tick);
    const second = await cache.get('k', make);
    expect(second.bin).toBe('x2');
    expect(await cache.get('k', make)).toBe(second);
  });

  it('makes a spec again when the file it read is edited to the same size with its mtime put back', async () => {
    const cache = new SpecCache();
    const path = join(tempDir('ct-cache-read-'), 'mcp.json');
    // One whole second for both: a same-size edit within one tick of the file system's clock looks like this.
    const tick = 1_700_000_000;
    writeFileSync(path, '{"a":1}');
    utimesSync(path, tick, tick);
    let made = 0;
    const make = async (): Promise<MadeSpec> => ({ spec: spec(`x${++made}`), read: { path, stamp: fileStamp(path) } });
    const first = await cache.get('k', make);
    expect(await cache.get('k', make)).toBe(first);
    writeFileSync(path, '{"a":2}');
    utimesSync(path, tick, tick);
    expect((await cache.get('k', make)).bin).toBe('x2');
  });
});
