import { closeSync, constants, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inside, real } from './cwd.js';

/** How much of one CLAUDE.md goes into the prompt. */
export const MAX_PROJECT_MEMORY = 64 * 1024;

// Per folder, in the order claude reads them: the project's memory, then the local (unshared) one.
const NAMES = ['CLAUDE.md', join('.claude', 'CLAUDE.md'), 'CLAUDE.local.md'];

// The folders above the cwd whose CLAUDE.md files belong to its project, outermost first: up to the repository's top
// (the nearest folder with a .git: a task's worktree or clone too) or the nearest allowed root, whichever comes first.
// Nothing when neither lies above: a walk never climbs out of a project it cannot bound.
function projectParents(cwd: string, roots: readonly string[]): string[] {
  const parents: string[] = [];
  for (let dir = cwd; ;) {
    if (existsSync(join(dir, '.git')) || roots.includes(dir)) return parents.reverse();
    const up = dirname(dir);
    if (up === dir) return [];
    parents.push((dir = up));
  }
}

// One file's text, at most MAX_PROJECT_MEMORY bytes, or undefined when it is not a regular file inside `top` (a
// symlink may point elsewhere in the project, never out of it, nor into the state dir).
function readInside(path: string, top: string, stateDir: string | undefined): string | undefined {
  const target = real(path);
  if (!target || !inside(target, top) || (stateDir && inside(target, stateDir) && !inside(top, stateDir))) return;
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted in the tree never blocks the run; O_NOFOLLOW: the path checked is the path read.
    fd = openSync(target, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return;
    const buf = Buffer.alloc(Math.min(stat.size, MAX_PROJECT_MEMORY));
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8');
    if (stat.size <= MAX_PROJECT_MEMORY) return text;
    return `${text}\n[cut: ${path} has ${stat.size} bytes; only its first ${MAX_PROJECT_MEMORY} are here]`;
  } finally {
    closeSync(fd);
  }
}

// The CLAUDE.md, .claude/CLAUDE.md and CLAUDE.local.md files of the cwd's project folders above it, and the cwd's own
// CLAUDE.local.md, as text for the appended system prompt: a modular run reads only the user's settings source and
// the cwd as an added folder (--add-dir), which leaves these out, and adding the parents as folders would open them
// to the file tools. `roots`: the allowed roots (the walk never climbs above one); `stateDir`: never read from.
export function projectMemory(cwd: string, roots: readonly string[], stateDir?: string): string[] {
  const realCwd = real(cwd);
  if (!realCwd) return [];
  const realRoots = roots.map(real).filter((r): r is string => !!r);
  const realState = stateDir ? real(stateDir) : undefined;
  const parents = projectParents(realCwd, realRoots);
  const top = parents[0] ?? realCwd;
  const files = [...parents.flatMap((dir) => NAMES.map((name) => join(dir, name))), join(realCwd, 'CLAUDE.local.md')];
  const texts: string[] = [];
  for (const file of files) {
    const text = readInside(file, top, realState);
    if (text?.trim()) texts.push(`# Project memory: ${file}\n${text}`);
  }
  return texts;
}
