import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { cwdStill, inside, pathBounds, placeOf } from '../../src/cwd.js';
import { resolveRun } from '../../src/tier-run/resolve.js';

// One PNG pixel.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

// A root holding a project and the server's state dir (a home folder allowed whole, with the state under it).
function layout() {
  const root = mkdtempSync(join(tmpdir(), 'ct-resolve-'));
  const project = join(root, 'project');
  const stateDir = join(root, 'state');
  mkdirSync(project);
  mkdirSync(join(stateDir, 'tasks'), { recursive: true });
  writeFileSync(join(project, 'a.png'), PNG);
  writeFileSync(join(stateDir, 'b.png'), PNG);
  symlinkSync(stateDir, join(project, 'state-link'));
  const { config } = loadConfig({ env: { HOME: root }, cwd: root, flags: { roots: [root], stateDir } });
  return { root, project, stateDir, config };
}

// resolveRun checks the cwd and each image against the roots and the state dir, looked up once (cwd.ts pathBounds).
describe('resolveRun: the cwd and the images against the roots and the state dir', () => {
  it('takes a project folder and its image; refuses the state dir as cwd or image, and a path outside', async () => {
    const { project, stateDir, config } = layout();
    const run = (cwd: string, path?: string) =>
      resolveRun(config, { tierName: 'speed', cwd, prompt: 'p', ...(path ? { images: [{ path }] } : {}) });
    const ok = await run(project, 'a.png');
    expect(ok.cwd).toBe(project);
    expect(Array.isArray(ok.content) && ok.content.length).toBe(2);
    await expect(run(join(stateDir, 'tasks'))).rejects.toThrow(/cwd: .* lies in the server's state dir/);
    await expect(run(join(project, 'state-link'))).rejects.toThrow(/lies in the server's state dir/);
    await expect(run(project, join(stateDir, 'b.png'))).rejects.toThrow(/images\[0\]\.path: .* lies in the server's/);
    await expect(run(project, 'state-link/b.png')).rejects.toThrow(/images\[0\]\.path: .* lies in the server's/);
    await expect(run(project, '/etc/hostname.png')).rejects.toThrow(/images\[0\]\.path: .* outside the allowed roots/);
  });
});

describe('inside and placeOf', () => {
  it('count an entry named `..x` as inside its folder, and `..` as above it', () => {
    expect(inside('/s/..x', '/s')).toBe(true);
    expect(inside('/s/..x/y', '/s')).toBe(true);
    expect(inside('/s', '/s')).toBe(true);
    expect(inside('/s/', '/s')).toBe(true);
    expect(inside('/s/../x', '/s')).toBe(false);
    expect(inside('/sx', '/s')).toBe(false);
    expect(inside('/', '/s')).toBe(false);
    const { root, project, stateDir } = layout();
    const bounds = pathBounds([project], stateDir);
    mkdirSync(join(project, '..x'));
    expect(placeOf('..x/new.png', bounds, project)).toBe('inside');
    expect(placeOf('../state/b.png', bounds, project)).toBe('state');
    expect(placeOf(join(root, 'elsewhere'), bounds, project)).toBe('outside');
  });
});

// A task's cwd, checked when it was submitted, is checked again when its run starts (task-runner.ts): a folder on its
// path swapped for a link meanwhile is refused, naming where it leads now.
describe('cwdStill', () => {
  it('keeps a cwd that is still its own real path; refuses one swapped for a link or gone', () => {
    const { root, project, stateDir } = layout();
    const bounds = pathBounds([root], stateDir);
    const sub = join(project, 'sub');
    mkdirSync(sub);
    expect(cwdStill(sub, 'the task was submitted', bounds)).toBe(sub);
    rmSync(sub, { recursive: true });
    expect(() => cwdStill(sub, 'the task was submitted', bounds)).toThrow(/cwd: .*sub changed since .*: it is gone/);
    symlinkSync(stateDir, sub);
    expect(() => cwdStill(sub, 'the task was submitted', bounds)).toThrow(
      new RegExp(`cwd: ${sub} changed since the task was submitted: it now leads to ${stateDir} `),
    );
    // Still its own real path, but no longer inside the roots (they changed): refused too.
    rmSync(sub);
    mkdirSync(sub);
    expect(() => cwdStill(sub, 'the task was submitted', pathBounds([join(root, 'other')], stateDir))).toThrow(
      /cwd: .*sub changed since the task was submitted: no allowed root exists/,
    );
  });
});
