import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { inside } from '../cwd.js';
import { ToolError } from '../errors.js';

// What a run must not read (Bash too when sandboxed, else its file tools), and the one folder inside it that it must:
// its own worktree or clone.
export interface SandboxScope {
  /** The server's state dir: every principal's task records, audit log and audit key, other tasks' worktrees. */
  stateDir: string;
  /** The task's own folder (worktree or clone root, else its cwd): stays readable, also inside stateDir. */
  ownDir: string;
  /** More paths to hide, each with everything below it (the user's config file, which may hold HTTP tokens). */
  hidden: readonly string[];
  /** Where claude runs (the sandbox's writable folder), when not ownDir itself: its .claude/ is not writable. */
  cwd?: string;
}

// The keys that hide them, as measured on claude 2.1.330: the sandbox (bwrap, what Bash runs in) takes denyRead and
// re-opens allowRead below it; the file tools (Read, Grep, Glob, Edit) obey only `Read(...)` deny rules, where a deny
// always wins (no allow rule, "!" rule or character class re-opens a path below it), so they get one rule per sibling.
export interface HiddenRules {
  denyRead: string[];
  allowRead: string[];
  readDeny: string[];
}

// Names the server creates in its state dir later (temp files, logs after rotation): denied even before they exist.
const STATE_NAMES = [
  ...['tasks', 'active', 'kill-requests', 'answer-requests', 'worktrees', 'spare-files', 'compare'],
  ...['audit*', 'links*', 'memory*', 'budgets*', '.doctor-*'],
];

// Both spellings of a path when a link is involved (the rules are matched as written, and again where links lead).
function spellings(path: string): string[] {
  const abs = resolve(path);
  let real = abs;
  try {
    real = realpathSync(abs);
  } catch {
    /* not there (yet): as written */
  }
  return real === abs ? [abs] : [abs, real];
}

// A Read rule's path: `//` starts an absolute path; a folder rule covers the folder and everything below it.
const rule = (path: string): string => `Read(/${path})`;
const below = (path: string): string[] => [rule(path), rule(`${path}/**`)];

const globToRegExp = (glob: string): RegExp =>
  new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

// The entries of `dir` beside the one on the way to `own`, on every level from `root` down to own's parent, and the
// names the server may create there later.
function siblingsOnTheWay(root: string, own: string): string[] {
  const out: string[] = [];
  for (let dir = root; dir !== own;) {
    const step = relative(dir, own).split(sep)[0]!;
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      /* gone or unreadable: nothing to list */
    }
    if (dir === root) names.push(...STATE_NAMES.filter((glob) => !globToRegExp(glob).test(step)));
    for (const name of names) if (name !== step) out.push(join(dir, name));
    dir = join(dir, step);
  }
  // A sibling made later whose name starts with own's name.
  out.push(`${own}?*`);
  return [...new Set(out)];
}

// The rules that hide scope.stateDir (less scope.ownDir) and scope.hidden from a sandboxed run.
export function hiddenRules(scope: SandboxScope): HiddenRules {
  const denyRead: string[] = [];
  const allowRead: string[] = [];
  const readDeny: string[] = [];
  const owns = spellings(scope.ownDir);
  for (const root of spellings(scope.stateDir)) {
    const own = owns.find((o) => inside(o, root));
    // A run whose own folder is the state dir itself could be hidden nothing of it: no legitimate run has that (a
    // worktree lies below it, a cwd is refused there), so it is refused, not planned.
    if (own === root)
      throw new ToolError(`cwd: ${scope.ownDir} is the server's state dir (${root}); a run never works there`);
    denyRead.push(root);
    if (!own) {
      readDeny.push(...below(root));
      continue;
    }
    allowRead.push(own);
    for (const path of siblingsOnTheWay(root, own)) readDeny.push(...below(path));
  }
  for (const path of scope.hidden.flatMap(spellings)) {
    if (owns.some((o) => inside(o, path))) continue;
    denyRead.push(path);
    readDeny.push(...below(path));
  }
  return { denyRead: [...new Set(denyRead)], allowRead: [...new Set(allowRead)], readDeny: [...new Set(readDeny)] };
}

// True when the run's own folder lies inside the state dir (a worktree or clone there), not the state dir itself: the
// rules then name the state dir's entries beside it as they are at start, not the ones made later.
export function ownInsideStateDir(scope: SandboxScope): boolean {
  const owns = spellings(scope.ownDir);
  return spellings(scope.stateDir).some((root) => owns.some((o) => o !== root && inside(o, root)));
}

// Where the user's own config file (it may hold HTTP tokens) and the folder it is looked for in by default may be,
// whether they exist yet or not: a run hides those that exist when it starts (one made after start-up too).
export function configPaths(env: NodeJS.ProcessEnv, configFile: string | undefined): string[] {
  const xdg = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : undefined);
  const named = env.CLAUDE_TIERS_CONFIG && isAbsolute(env.CLAUDE_TIERS_CONFIG) ? env.CLAUDE_TIERS_CONFIG : undefined;
  const paths = [configFile, named, xdg && join(xdg, 'claude-tiers')];
  return [...new Set(paths)].filter((p): p is string => !!p);
}

// Which of those paths (configPaths, worked out at start-up) exist now: one made after start-up is hidden from the
// next run.
export const hiddenNow = (candidates: readonly string[]): string[] => candidates.filter((path) => existsSync(path));
