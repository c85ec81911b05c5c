import { describe, expect, it } from 'vitest';
import { textOf } from '../support/harness.js';
import { gitIn, useRepoServer } from './repo-server.js';
import { viewOf } from '../support/views.js';

// Nothing lost: two follow-ups of one isolated task (fork: "two follow-ups of one task never share a transcript")
// both take the task's folder (a follow-up reuses its first task's folder name, and finds the other's worktree
// there), with no lock. The one that ends first removes the folder under the other, which is still running: the
// other's files go, and its later writes fail.
const ctx = useRepoServer();

const start = async (args: Record<string, unknown>) =>
  viewOf(await ctx.server.client.callTool({ name: 'deep_task', arguments: { wait_s: 0, ...args } }));

describe('two follow-ups of one isolated task at once', () => {
  it('lose no file of either: every file a follow-up wrote is on the branch', async () => {
    // Each turn writes a file of its own and waits; the scripted model repeats it until max_turns.
    const cmd =
      'n=$(cat /proc/sys/kernel/random/uuid); echo $n > f-$n.txt; echo wrote=$? f-$n.txt; sleep 3; echo slept';
    const a = await ctx.final(
      (await start({ prompt: `[[repeat-bash:${cmd}]]`, cwd: ctx.repo, isolation: 'worktree', max_turns: 1 })).task_id,
    );
    expect(a.final).toBe(true);
    const mark = `LONG-${Math.random()}`;
    const long = await start({ prompt: mark, continue_task_id: a.task_id, fork: true, max_turns: 3 });
    // A second follow-up while the first works in the folder is refused, naming the field and the task holding it.
    const shortMark = `SHORT-${Math.random()}`;
    const args = { prompt: shortMark, continue_task_id: a.task_id, fork: true, max_turns: 1, wait_s: 0 };
    const refused = await ctx.server.client.callTool({ name: 'deep_task', arguments: args });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(new RegExp(`continue_task_id[^]*${long.task_id}`));
    const l = await ctx.final(long.task_id);
    // Once it has ended, the folder is free again.
    const s = await ctx.final((await start(args)).task_id);
    expect([l.final, s.final]).toEqual([true, true]);
    // It ran (in the folder, after the first): its conversation reached the model, and no step lost its folder.
    const shortReqs = ctx.api.messageRequests((r) => JSON.stringify(r.messages).includes(shortMark));
    expect(shortReqs.length).toBeGreaterThan(0);
    expect(JSON.stringify(shortReqs.at(-1)?.messages ?? [])).not.toMatch(/No such file or directory/);
    // What the long follow-up's Bash steps said, from the API requests of its own conversation.
    const reqs = ctx.api.messageRequests((r) => JSON.stringify(r.messages).includes(mark));
    expect(JSON.stringify(reqs.at(-1)?.messages ?? [])).not.toMatch(/No such file or directory/);
    // Every write that succeeded and that the model was told of (a run's last tool result, at max_turns, is never
    // sent: those files are counted on the branch but not named here) is a file on the branch.
    const wrote = new Set<string>();
    for (const r of ctx.api.requests)
      for (const m of r.messages as Array<{ content: unknown }>)
        for (const b of Array.isArray(m.content) ? (m.content as Array<Record<string, unknown>>) : [])
          if (b.type === 'tool_result')
            for (const hit of JSON.stringify(b.content).matchAll(/wrote=0 (f-[\w-]+\.txt)/g)) wrote.add(hit[1]!);
    const onBranch = gitIn(ctx.repo, 'ls-tree', '--name-only', a.worktree!.branch!).split('\n');
    expect(wrote.size).toBeGreaterThanOrEqual(2);
    expect([...wrote].filter((f) => !onBranch.includes(f))).toEqual([]);
    // The first task's, the long follow-up's (one per turn) and the short one's.
    expect(onBranch.filter((f) => f.startsWith('f-')).length).toBeGreaterThanOrEqual(wrote.size + 2);
  }, 240_000);
});
