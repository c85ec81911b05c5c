import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ToolError } from './errors.js';

// A path with its symlinks followed, or undefined when it does not exist.
export function real(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

// A path where its links lead, or as written (absolute) when it does not exist.
export const realOrSelf = (path: string): string => real(path) ?? resolve(path);

// Whether `child` is `root` or lies below it (both absolute; real paths where links matter). An entry whose name
// starts with two dots (`root/..x`) lies below it.
export const inside = (child: string, root: string): boolean => {
  const rel = relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
};

// What a request's paths are checked against, their links followed once per request: the allowed roots that exist
// and the server's state dir (never a task's to work in or read from).
export interface PathBounds {
  /** The roots as configured, for messages. */
  readonly configured: readonly string[];
  readonly roots: readonly string[];
  readonly stateDir?: string;
}

// The bounds of one request: one realpath per root, one for the state dir.
export function pathBounds(roots: readonly string[], stateDir?: string): PathBounds {
  const realRoots = roots.map((r) => real(r)).filter((r): r is string => r !== undefined);
  return { configured: roots, roots: realRoots, ...(stateDir === undefined ? {} : { stateDir: realOrSelf(stateDir) }) };
}

// Where a path a request names lies (relative to cwd; one that does not exist yet is judged by its nearest existing
// parent): in the state dir, outside the roots, or inside them.
export function placeOf(path: string, bounds: PathBounds, cwd: string): 'state' | 'outside' | 'inside' {
  let probe = isAbsolute(path) ? path : resolve(cwd, path);
  let resolved = real(probe);
  while (!resolved) {
    const parent = resolve(probe, '..');
    if (parent === probe) return 'outside';
    probe = parent;
    resolved = real(probe);
  }
  const at = resolved;
  if (bounds.stateDir !== undefined && inside(at, bounds.stateDir)) return 'state';
  return bounds.roots.some((root) => inside(at, root)) ? 'inside' : 'outside';
}

// Resolves a requested working directory (symlinks followed) and refuses anything outside the allowed roots, or in
// the state dir when the bounds name it.
export function resolveCwd(requested: string | undefined, bounds: PathBounds): string {
  const realRoots = bounds.roots;
  if (realRoots.length === 0)
    throw new ToolError(
      `no allowed root exists (configured: ${bounds.configured.join(', ')}); fix allowedRoots in the config`,
    );
  const resolved = requested === undefined ? realRoots[0]! : existingDir(requested, realRoots);
  if (bounds.stateDir !== undefined && inside(resolved, bounds.stateDir))
    throw new ToolError(
      `cwd: ${requested ?? resolved} lies in the server's state dir (${bounds.stateDir}), which holds every task's ` +
        'records and keys; pass a directory of your project',
    );
  return resolved;
}

// A cwd checked earlier (resolveCwd: its real path), checked again where it is used (a queued task's when its run
// starts): a folder on its path swapped for a link meanwhile must not move the run into the state dir or out of the
// roots. `since` says when it was checked. Returns the path, still its own real path.
export function cwdStill(checked: string, since: string, bounds: PathBounds): string {
  const now = real(checked);
  if (now !== checked) throw cwdChanged(checked, since, now);
  try {
    return resolveCwd(checked, bounds);
  } catch (err) {
    throw cwdChanged(checked, since, now, (err as Error).message.replace(/^cwd: /, ''));
  }
}

// The error of a checked cwd that changed since (cwdStill; a quick run checks its own inline): where it leads now,
// or why it is refused now.
function cwdChanged(checked: string, since: string, now: string | undefined, why?: string): ToolError {
  const what = why ?? (now ? `it now leads to ${now} (a folder on its path was replaced by a link)` : 'it is gone');
  return new ToolError(`cwd: ${checked} changed since ${since}: ${what}; the run was not started`);
}

// A requested cwd as a real directory inside one of the (real) roots; a ToolError naming the problem otherwise.
function existingDir(requested: string, realRoots: readonly string[]): string {
  const absolute = isAbsolute(requested) ? requested : resolve(realRoots[0]!, requested);
  const resolved = real(absolute);
  if (!resolved)
    throw new ToolError(
      `cwd: ${requested} does not exist; pass an existing directory inside ${realRoots.join(' or ')}`,
    );
  if (!statSync(resolved).isDirectory())
    throw new ToolError(`cwd: ${requested} is not a directory; pass a directory inside ${realRoots.join(' or ')}`);
  if (!realRoots.some((root) => inside(resolved, root))) {
    throw new ToolError(
      `cwd: ${requested} resolves to ${resolved}, outside the allowed roots (${realRoots.join(', ')}); pass ` +
        `a directory inside them or ask the operator to add a root`,
    );
  }
  return resolved;
}

// Whether a path a tool wants to touch (relative to cwd; it may not exist yet) lies inside the allowed roots.
export function pathInsideRoots(path: string, roots: string[], cwd: string): boolean {
  return placeOf(path, pathBounds(roots), cwd) === 'inside';
}
