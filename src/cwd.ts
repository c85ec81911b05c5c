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

// Whether `child` is `root` or lies below it (both real paths).
export const inside = (child: string, root: string): boolean => {
  if (child === root) return true;
  const rel = relative(root, child);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
};

// Resolves a requested working directory (symlinks followed) and refuses anything outside the allowed roots.
export function resolveCwd(requested: string | undefined, roots: string[]): string {
  const realRoots = roots.map((r) => real(r)).filter((r): r is string => !!r);
  if (realRoots.length === 0)
    throw new ToolError(`no allowed root exists (configured: ${roots.join(', ')}); fix allowedRoots in the config`);
  if (requested === undefined) return realRoots[0]!;
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
  const realRoots = roots.map((r) => real(r)).filter((r): r is string => !!r);
  let probe = isAbsolute(path) ? path : resolve(cwd, path);
  let resolved = real(probe);
  // A file to be created: judge by its nearest existing parent.
  while (!resolved) {
    const parent = resolve(probe, '..');
    if (parent === probe) return false;
    probe = parent;
    resolved = real(probe);
  }
  return realRoots.some((root) => inside(resolved!, root));
}
