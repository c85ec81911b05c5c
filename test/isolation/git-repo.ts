import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A scratch git repository with one commit (README.md and src/keep.txt), for tests of the worktree module.
export function scratchRepo(): { root: string; stateDir: string; git(...args: string[]): string } {
  const root = mkdtempSync(join(tmpdir(), 'ct-repo-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'ct-wtstate-'));
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'user',
    GIT_AUTHOR_EMAIL: 'user@localhost',
    GIT_COMMITTER_NAME: 'user',
    GIT_COMMITTER_EMAIL: 'user@localhost',
  };
  const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { env, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(root, 'README.md'), 'hello\n');
  execFileSync('mkdir', ['-p', join(root, 'src')]);
  writeFileSync(join(root, 'src', 'keep.txt'), 'keep\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  return { root, stateDir, git };
}
