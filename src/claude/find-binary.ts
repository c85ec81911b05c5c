import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, delimiter, dirname, isAbsolute, join } from 'node:path';
import { inside } from '../cwd.js';
import { ToolError } from '../errors.js';
import { packageRoot } from '../paths.js';

export interface ClaudeBinary {
  path: string;
  source: 'CLAUDE_TIERS_CLAUDE_BIN' | 'config' | 'PATH' | 'package';
}

// Raised when no claude can be found; its message names every place looked at.
export class ClaudeNotFoundError extends Error {
  override name = 'ClaudeNotFoundError';
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Where the package's own claude may be: next to its @anthropic-ai/claude-code, then its node_modules/.bin. Neither
// can move while the server runs, so they are found once, when first needed.
let packageCandidates: string[] | undefined;
function packageBinaries(): string[] {
  if (packageCandidates) return packageCandidates;
  const out: string[] = [];
  try {
    const require = createRequire(import.meta.url);
    out.push(join(dirname(require.resolve('@anthropic-ai/claude-code/package.json')), 'bin', 'claude.exe'));
  } catch {
    /* not installed next to us */
  }
  out.push(join(packageRoot(), 'node_modules', '.bin', 'claude'));
  packageCandidates = out;
  return out;
}

// Where claude is looked for, and what a task may write: the allowed roots and the state dir.
export interface FindOptions {
  env?: NodeJS.ProcessEnv;
  configured?: string;
  /** The allowed roots and the state dir: a task may write there, so no claude found on PATH is run from there. */
  writable?: readonly string[];
  /** Told (at start-up) of a claude skipped or kept inside `writable`. */
  warn?(message: string): void;
}

// A path's real path; itself when it cannot be resolved.
function realOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

// The folder of `writable` that holds the file at `path` (the link itself, where its folder really is, or the file it
// leads to), if any: a task may write there, replace the file or point the link elsewhere.
function writableHolder(path: string, writable: readonly string[]): string | undefined {
  const spots = [join(realOf(dirname(path)), basename(path)), realOf(path)];
  return writable.find((dir) => [dir, realOf(dir)].some((d) => spots.some((spot) => inside(spot, d))));
}

// Finds claude: the configured path wins (the loaded config's claudeBin, which already holds --claude-bin over
// CLAUDE_TIERS_CLAUDE_BIN over the config file; without a config, CLAUDE_TIERS_CLAUDE_BIN), else `claude` on PATH, else
// the package's own. The path is always absolute: runs spawn it from their own cwd, where a relative one (a PATH entry
// such as `node_modules/.bin`) would name a file the task's tree holds. So a relative configured path is refused, and
// relative PATH entries are skipped (as Go's exec.LookPath does); so is a PATH entry's claude that lies in a folder a
// task may write (options.writable; a configured one is kept, with a warning). The path returned is the real one, found
// once: a link swapped later does not redirect the server's spawns.
export function findClaude(options: FindOptions = {}): ClaudeBinary {
  const env = options.env ?? process.env;
  const writable = options.writable ?? [];
  const given = options.configured || env.CLAUDE_TIERS_CLAUDE_BIN;
  if (given) {
    const source = given === env.CLAUDE_TIERS_CLAUDE_BIN ? 'CLAUDE_TIERS_CLAUDE_BIN' : 'config';
    const named = source === 'config' ? "the config's claudeBin" : source;
    // A guard: loadConfig already refuses a relative claudeBin, naming where it came from.
    if (!isAbsolute(given))
      throw new ClaudeNotFoundError(
        `claude not found: ${named} is ${given}, a relative path; give an absolute one (each run starts claude ` +
          'from its own folder).',
      );
    // The operator's choice, even inside an allowed root: sandboxed runs cannot write it (isolation/server-code.ts).
    if (isExecutableFile(given)) return { path: realOf(given), source };
    throw new ClaudeNotFoundError(
      `claude not found: ${named} is set to ${given}, which is not an executable file. ` +
        `Fix the path, or unset it to use \`claude\` on PATH or the package's own node_modules/.bin/claude.`,
    );
  }
  const pathDirs = (env.PATH ?? '').split(delimiter).filter((dir) => isAbsolute(dir));
  const skipped: string[] = [];
  for (const dir of pathDirs) {
    const candidate = join(dir, 'claude');
    if (!isExecutableFile(candidate)) continue;
    const holder = writableHolder(candidate, writable);
    if (!holder) return { path: realOf(candidate), source: 'PATH' };
    skipped.push(candidate);
    options.warn?.(
      `claude ${candidate} on PATH is skipped: it lies inside ${holder}, which tasks may write. ` +
        'Set CLAUDE_TIERS_CLAUDE_BIN to the claude to run.',
    );
  }
  const pkg = packageBinaries();
  for (const candidate of pkg) if (isExecutableFile(candidate)) return { path: realOf(candidate), source: 'package' };
  throw new ClaudeNotFoundError(
    'claude not found. Looked at: (1) CLAUDE_TIERS_CLAUDE_BIN (not set), (2) `claude` on PATH ' +
      `(${skipped.length ? `skipped, where tasks may write: ${skipped.join(', ')}` : 'not found'}), ` +
      `(3) the package's own ${pkg[pkg.length - 1]} (missing). Install it with \`npm install\` in claude-tiers, ` +
      '`npm install -g @anthropic-ai/claude-code`, or set CLAUDE_TIERS_CLAUDE_BIN to its path.',
  );
}

// What of a server's config the lookup of its claude reads.
export interface ClaudeConfig {
  readonly claudeBin?: string;
  readonly maxDepth: number;
  readonly allowedRoots?: readonly string[];
  readonly stateDir?: string;
}

// Where a task may write, so where no claude found on PATH is run from: the allowed roots and the state dir.
export const taskWritable = (config: Omit<ClaudeConfig, 'maxDepth'>): string[] => [
  ...(config.allowedRoots ?? []),
  ...(config.stateDir ? [config.stateDir] : []),
];

// The claude binary of a server, how a run says it is gone, and who must hear of it.
export interface BinaryLookup {
  /** The claude binary to run now; a ToolError naming every place looked at when none is found. */
  (): ClaudeBinary;
  /** A run found `path` gone (spawnClaude's ExitInfo.binaryGone): the next call looks for claude again. */
  forget(path: string): void;
  /** Tells `watcher` of every binary found gone, and of the one found after that. */
  watch(watcher: BinaryWatcher): void;
}

// What depends on the binary a server runs (the specs that name it, the warm spares spawned from it).
export interface BinaryWatcher {
  /** `path` was found gone: whatever was made from it goes; `kept` when it was the binary this server used now. */
  gone(path: string, kept: boolean): void;
  /** A binary was found after none was (not installed at start-up, gone, then reinstalled or another on PATH). */
  found?(binary: ClaudeBinary): void;
}

// The claude binary a server runs, found once: the first lookup that finds it (at start-up, for the startup line) is
// kept, so no run stats the disk for it again; one removed later fails at its spawn, which says so
// (ExitInfo.binaryGone), and the run's caller drops the kept answer (forget): the next call looks again, and the
// watchers hear of both (the one place that knows a binary is gone). Until one is
// found, each run looks again (the startup line says calls fail until it is installed). Past maxDepth a refusal (this
// server runs inside a claude that claude-tiers started); a missing binary is a ToolError naming every place looked at.
export function claudeBinaryOf(
  env: NodeJS.ProcessEnv,
  depth: number,
  config: ClaudeConfig,
  warn?: (message: string) => void,
): BinaryLookup {
  let found: ClaudeBinary | undefined;
  let lost = false;
  const watchers: BinaryWatcher[] = [];
  const lookup = () => {
    if (depth >= config.maxDepth) {
      throw new ToolError(
        `refused: this claude-tiers server runs at depth ${depth} (inside a claude started by claude-tiers) ` +
          `and maxDepth is ${config.maxDepth}; recursion is not allowed`,
      );
    }
    try {
      if (found) return found;
      found = findClaude({ env, configured: config.claudeBin, writable: taskWritable(config), warn });
      if (lost) {
        lost = false;
        for (const w of watchers) w.found?.(found);
      }
      return found;
    } catch (err) {
      if (err instanceof ClaudeNotFoundError) {
        // None yet (e.g. not installed at start-up): the one found later is announced.
        lost = true;
        throw new ToolError(err.message);
      }
      throw err;
    }
  };
  const forget = (path: string): void => {
    const kept = found?.path === path;
    if (kept) {
      found = undefined;
      lost = true;
    }
    for (const w of watchers) w.gone(path, kept);
  };
  return Object.assign(lookup, { forget, watch: (w: BinaryWatcher) => void watchers.push(w) });
}
