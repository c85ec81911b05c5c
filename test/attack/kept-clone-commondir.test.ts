import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitIn, useRepoServer } from './repo-server.js';
import { viewOf } from '../support/views.js';

// A guard, passing on claude 2.1.330: a .git/commondir in a clone makes git read its config (core.fsmonitor) and hooks
// from wherever it points, and a sandboxed task can write a copy of its .git with a planted fsmonitor into its tree.
// The write to .git/commondir "succeeds" in the sandbox (measured: it lands on a mount of claude's, nothing reaches
// the disk), so the kept clone's path, handed to the user (keep_worktree), runs nothing at the user's `git status`.
// Measured by hand: were commondir written, a plain `git status` there would run the planted command.
const ctx = useRepoServer();

describe("a sandboxed task's kept clone", () => {
  it("runs nothing of the task's when the user runs git status in it", async () => {
    const mark = join(mkdtempSync(join(tmpdir(), 'ct-mark-')), 'fsmonitor-ran');
    const plant = [
      'cp -a .git .evilgit 2>/dev/null',
      `printf '[core]\\n\\tfsmonitor = "touch ${mark}; false"\\n' >> .evilgit/config`,
      'echo ../.evilgit > .git/commondir; echo planted=$?',
    ].join('; ');
    const t = viewOf(
      await ctx.server.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `[[bash:${plant}]]`, cwd: ctx.repo, tier: 'sandboxed', keep_worktree: true, wait_s: 0 },
      }),
    );
    const v = await ctx.final(t.task_id);
    expect(v.state).toBe('succeeded');
    const kept = (v.worktree as { path?: string } | undefined)?.path;
    expect(kept).toBeTruthy();
    expect(existsSync(mark)).toBe(false);
    // What the user does with the path the result gives them.
    try {
      gitIn(kept!, 'status', '--short');
    } catch {
      /* a refusal is fine */
    }
    expect(existsSync(mark)).toBe(false);
  }, 240_000);
});
