import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import { ToolError } from '../errors.js';

// The git CLI was not found on PATH: isolation needs it, and says so in words an operator can act on.
export class GitMissingError extends ToolError {
  override name = 'GitMissingError';
  constructor(path: string | undefined) {
    super(
      `isolation: the git command was not found on PATH (${path ?? 'unset'}); install git (Debian: apt-get ` +
        `install git) or run the task without isolation`,
    );
  }
}

// One git command that failed: its argv and what git said.
export class GitError extends ToolError {
  override name = 'GitError';
  constructor(
    readonly args: string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
    readonly stdout = '',
  ) {
    super(`git ${args.join(' ')} failed (exit ${exitCode ?? '?'}): ${stderr.trim().slice(0, 500)}`);
  }
}

// How git is run: the environment it sees (PATH decides which git), how often a lock is retried, and what it reads
// on stdin.
export interface GitOptions {
  env?: NodeJS.ProcessEnv;
  lockRetries?: number;
  lockRetryMs?: number;
  input?: string;
}

// Another git's work in progress: a lock file, or (git worktree add racing another one on the same repository) a
// worktree entry it is still writing ("failed to read .git/worktrees/<name>/commondir").
const LOCKED = new RegExp(
  String.raw`index\.lock|\.lock': File exists|Unable to create .*\.lock|could not lock config file|cannot lock ref|` +
    String.raw`failed to read .*worktrees\/[^/\s]+\/(?:commondir|gitdir)`,
  'i',
);

// Settings given on the command line (protected configuration: they win over anything a repository's own config, a
// task could have written, says) so that no git the server runs executes a program or enters another repository:
// no fsmonitor (core.fsmonitor runs a command), no hooks (core.hooksPath), no submodule recursion, no untracked
// cache, no network transport (protocol.allow: a clone or fetch names its local path with protocol.file.allow), no
// auto gc or maintenance (they spawn more git). Diffs add --no-ext-diff --no-textconv; blobs are hashed with
// --no-filters.
export const HARDENING: readonly string[] = [
  'core.fsmonitor=false',
  'core.hooksPath=/dev/null',
  'core.untrackedCache=false',
  'core.splitIndex=false',
  'submodule.recurse=false',
  'protocol.allow=never',
  'gc.auto=0',
  'maintenance.auto=false',
  'commit.gpgSign=false',
  'tag.gpgSign=false',
  'safe.bareRepository=explicit',
].flatMap((kv) => ['-c', kv]);

// Git's environment: the operator's, minus every GIT_* variable (an inherited GIT_DIR, GIT_CONFIG_PARAMETERS or
// GIT_EXTERNAL_DIFF would steer it), plus no prompts, no optional locks, no replace refs and no lazy fetches.
function gitEnv(base: NodeJS.ProcessEnv, extra: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('GIT_')) env[k] = v;
  return {
    ...env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_NO_LAZY_FETCH: '1',
    GIT_ASKPASS: '/bin/false',
    LC_ALL: 'C',
    ...extra,
  };
}

// Runs `git -C cwd <hardening> ...args` and returns its stdout; retries while another git holds a lock file
// (index.lock, a ref or config lock), so concurrent worktree operations on one repository do not fail on each other.
// opts.env's GIT_* variables (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE) are the only ones git sees.
export async function git(cwd: string, args: string[], opts: GitOptions = {}): Promise<string> {
  const gitVars = Object.fromEntries(Object.entries(opts.env ?? {}).filter(([k]) => k.startsWith('GIT_')));
  const env = gitEnv(opts.env ?? process.env, gitVars);
  const retries = opts.lockRetries ?? 20;
  for (let attempt = 0; ; attempt++) {
    let r;
    try {
      r = await execa('git', ['-C', cwd, ...HARDENING, ...args], {
        env,
        extendEnv: false,
        reject: false,
        ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' }),
      });
    } catch (err) {
      throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? new GitMissingError(env.PATH) : err;
    }
    if ((r as { code?: string }).code === 'ENOENT') throw new GitMissingError(env.PATH);
    if (r.exitCode === 0) return String(r.stdout);
    const stderr = String(r.stderr);
    if (attempt < retries && LOCKED.test(stderr)) {
      await delay((opts.lockRetryMs ?? 50) * (1 + Math.random()));
      continue;
    }
    throw new GitError(args, r.exitCode, stderr, String(r.stdout));
  }
}
