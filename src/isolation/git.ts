import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import { ToolError } from '../errors.js';

// The git CLI was not found on PATH: isolation needs it, and says so in words an operator can act on.
export class GitMissingError extends ToolError {
  override name = 'GitMissingError';
  constructor(path: string | undefined) {
    super(`isolation: the git command was not found on PATH (${path ?? 'unset'}); install git (Debian: apt-get install git) or run the task without isolation`);
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

// How git is run: the environment it sees (PATH decides which git) and how often a lock is retried.
export interface GitOptions {
  env?: NodeJS.ProcessEnv;
  lockRetries?: number;
  lockRetryMs?: number;
}

// Another git's work in progress: a lock file, or (git worktree add racing another one on the same repository) a
// worktree entry it is still writing ("failed to read .git/worktrees/<name>/commondir").
const LOCKED = /index\.lock|\.lock': File exists|Unable to create .*\.lock|could not lock config file|cannot lock ref|failed to read .*worktrees\/[^/\s]+\/(?:commondir|gitdir)/i;

// Runs `git -C cwd ...args` and returns its stdout; retries while another git holds a lock file (index.lock, a ref or
// config lock), so concurrent worktree operations on one repository do not fail on each other.
export async function git(cwd: string, args: string[], opts: GitOptions = {}): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' };
  const retries = opts.lockRetries ?? 20;
  for (let attempt = 0; ; attempt++) {
    let r;
    try {
      r = await execa('git', ['-C', cwd, ...args], { env, extendEnv: false, reject: false, stdin: 'ignore' });
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
