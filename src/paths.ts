import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

// The package root (where package.json and .mcp.comprehensive.json live), from src/ or dist/src/; found once (the
// package does not move while the server runs).
export function packageRoot(): string {
  root ??= findRoot();
  return root;
}

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, '.mcp.comprehensive.json'))) return dir;
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

// A path from the built-in config: absolute stays, relative is taken from the package root.
export function fromPackageRoot(path: string): string {
  return isAbsolute(path) ? path : join(packageRoot(), path);
}
