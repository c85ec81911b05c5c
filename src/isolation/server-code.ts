import { realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { packageRoot } from '../paths.js';

// Both spellings of a path that exists (as written, and where links lead); none when it does not exist (bwrap binds
// each path read-only, and one that is not there cannot be).
function existing(path: string): string[] {
  try {
    const real = realpathSync(path);
    return real === path ? [path] : [path, real];
  } catch {
    return [];
  }
}

// The npm package folder that holds `file`: the folder just below a node_modules (or a scope folder in one).
function packageFolder(file: string): string | undefined {
  for (let dir = dirname(file); dirname(dir) !== dir; dir = dirname(dir)) {
    const parent = dirname(dir);
    const above = basename(parent).startsWith('@') ? dirname(parent) : parent;
    if (basename(above) === 'node_modules') return dir;
  }
  return undefined;
}

// What no sandboxed run may write, because the server runs it outside any sandbox: the claude binary `bin` (as named,
// its real path and that one's package folder) and the server's own code, its dist/ and node_modules/ (chunks and
// pino are loaded from there lazily). Not the package root itself: a task's cwd may lie inside it. Only paths that
// exist, each in both spellings.
export function serverCode(bin: string): string[] {
  const real = existing(bin).at(-1);
  const root = packageRoot();
  const paths = [bin, real && packageFolder(real), join(root, 'dist'), join(root, 'node_modules')];
  return [...new Set(paths.filter((p): p is string => !!p).flatMap(existing))];
}
