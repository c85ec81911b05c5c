import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inside } from '../cwd.js';

// What the guard hides: the state dir less the task's own folder, and more paths with everything below them. The same
// scope as SandboxScope (sandbox-hidden.ts), kept apart so the hook's entry point loads little beyond node's fs and
// path (and cwd.ts's `inside`, the one test of "lies below" the server uses).
export interface GuardScope {
  stateDir: string;
  ownDir: string;
  hidden: readonly string[];
}

// The file tools claude runs in its own process (outside the sandbox), and the input fields that name a path.
const FILE_TOOLS: Record<string, readonly string[]> = {
  Read: ['file_path'],
  Edit: ['file_path'],
  MultiEdit: ['file_path'],
  Write: ['file_path'],
  NotebookEdit: ['notebook_path'],
  NotebookRead: ['notebook_path'],
  Grep: ['path'],
  Glob: ['path'],
  LS: ['path'],
};
// Tools that walk a folder: a search from a folder that holds a hidden one would list what was made after start.
const SEARCHES = new Set(['Grep', 'Glob', 'LS']);
// The file tools that write: none of them may write a .claude folder (settings, hooks, skills, commands of claude).
const WRITES = new Set(['Write', 'Edit', 'MultiEdit', 'NotebookEdit']);

// The PreToolUse matcher of the hook (a regular expression over tool names).
export const GUARDED_TOOLS = Object.keys(FILE_TOOLS).join('|');

// The real path of `path`, through its longest existing prefix (a file that Write would create does not exist yet).
function realish(path: string): string {
  let head = path;
  const tail: string[] = [];
  for (;;) {
    try {
      // The native call gives the spelling the file system stores (on a case-insensitive one, its case).
      return join(realpathSync.native(head), ...tail.reverse());
    } catch {
      const up = dirname(head);
      if (up === head) return path;
      tail.push(basename(head));
      head = up;
    }
  }
}

// Both spellings of a path: as written (absolute) and where its links lead.
const spellings = (path: string): string[] => [...new Set([resolve(path), realish(resolve(path))])];

// The folders of `path` a .claude rule looks at: those below the own folder or cwd it lies in (the deeper one), so a
// state dir or a repo that lives under some .claude folder is not refused whole; all of them for a path outside both.
function foldersBelow(path: string, roots: readonly string[]): string[] {
  const root = roots.filter((r) => inside(path, r)).sort((a, b) => b.length - a.length)[0];
  return (root === undefined ? path : relative(root, path)).split(sep);
}

// The folder a glob pattern starts from: its segments before the first one with a wildcard.
function globRoot(pattern: string): string {
  const segments = pattern.split('/');
  const cut = segments.findIndex((s) => /[*?[{]/.test(s));
  return (cut === -1 ? segments : segments.slice(0, cut)).join('/') || (pattern.startsWith('/') ? '/' : '.');
}

// The paths a tool call touches, absolute: its path fields (a search's default is the cwd) and a Glob pattern's root.
function touchedPaths(tool: string, input: Record<string, unknown>, cwd: string, home: string | undefined): string[] {
  const expand = (p: string) => (home && (p === '~' || p.startsWith('~/')) ? join(home, p.slice(1)) : p);
  const abs = (p: string) => resolve(cwd, expand(p));
  const named = (FILE_TOOLS[tool] ?? [])
    .map((k) => input[k])
    .filter((v): v is string => typeof v === 'string' && v !== '');
  const paths = named.map(abs);
  if (SEARCHES.has(tool) && named.length === 0) paths.push(resolve(cwd));
  if (tool === 'Glob' && typeof input.pattern === 'string') {
    const base = typeof input.path === 'string' && input.path ? abs(input.path) : resolve(cwd);
    paths.push(resolve(base, expand(globRoot(input.pattern))));
  }
  return paths;
}

// Why this tool call must not run (it names a hidden path, or searches a folder holding one); undefined when it may.
export function guardDecision(
  scope: GuardScope,
  tool: string,
  input: unknown,
  cwd: string,
  home: string | undefined,
): string | undefined {
  if (!(tool in FILE_TOOLS) || typeof input !== 'object' || input === null) return undefined;
  const owns = spellings(scope.ownDir);
  const hidden = [scope.stateDir, ...scope.hidden].flatMap(spellings).filter((h) => !owns.includes(h));
  const roots = [...owns, ...spellings(cwd)];
  for (const path of touchedPaths(tool, input as Record<string, unknown>, cwd, home)) {
    for (const p of spellings(path)) {
      if (WRITES.has(tool) && foldersBelow(p, roots).includes('.claude'))
        return `${path} is in a .claude folder: claude's settings, hooks and commands are not the task's to write`;
      const inOwn = owns.some((o) => inside(p, o));
      // The own folder opens a hidden one it lies in (its worktree in the state dir), never one that lies in it (a
      // state dir under the cwd of a task without a worktree): the deeper of the two decides.
      if (hidden.some((h) => inside(p, h) && !owns.some((o) => inside(p, o) && inside(o, h))))
        return `${path} is in what the sandbox hides (the server's state, the user's config), not in the task's folder`;
      // A search from the own folder over a hidden one inside it: the deny rules fixed at start hide that one whole.
      if (!inOwn && SEARCHES.has(tool) && hidden.some((h) => inside(h, p))) {
        const instead = `search inside this task's folder (${scope.ownDir}) instead`;
        return `${tool} over ${path} would walk into what the sandbox hides; ${instead}`;
      }
    }
  }
  return undefined;
}

// The hook's entry point, built next to this module (dist/src/isolation/path-guard-main.js).
export function guardEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = here.split(sep).includes('dist') ? here : join(here, '..', '..', 'dist', 'src', 'isolation');
  return join(built, 'path-guard-main.js');
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

// The `hooks` settings that run the guard before every file tool: claude applies its deny rules once, at start, so
// a folder made later (another task's worktree or clone) is only refused by a check made at the call. A hook that
// cannot run must not let the call through: the entry point must exist (checked here) and it exits 2 on any error.
export function guardHooks(scope: GuardScope): Record<string, unknown> {
  const entry = guardEntry();
  if (!existsSync(entry)) throw new Error(`the sandbox's path guard ${entry} is missing; run npm run build`);
  const arg = Buffer.from(JSON.stringify(scope)).toString('base64url');
  const command = [process.execPath, entry, arg].map(shellQuote).join(' ');
  return { PreToolUse: [{ matcher: GUARDED_TOOLS, hooks: [{ type: 'command', command, timeout: 30 }] }] };
}
