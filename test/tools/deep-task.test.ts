import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import {
  processesMatching,
  startServer,
  textOf,
  uniqueSleep,
  waitFor,
  type StartedServer,
} from '../support/harness.js';
import { viewOf, viewsOf, type TaskView as View } from '../support/views.js';

let api: ScriptedApi;
let server: StartedServer;
const uniq = () => `${process.pid}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

beforeAll(async () => {
  api = await startScriptedApi();
  server = await startServer(api);
});
afterAll(async () => {
  await server?.close();
  await api?.close();
});

async function status(id: string, args: Record<string, unknown> = {}): Promise<View> {
  const r = await server.client.callTool({ name: 'task_status', arguments: { task_id: id, ...args } });
  expect(r.isError, textOf(r)).toBeFalsy();
  return viewOf(r);
}

async function waitFinal(id: string, timeoutS = 60): Promise<View> {
  const end = Date.now() + timeoutS * 1000;
  let v = await status(id);
  while (!v.final && Date.now() < end) v = await status(id, { wait_s: 10, cursor: v.cursor });
  return v;
}

describe('deep_task', () => {
  it('declares the task view as its output schema, and its results match it', async () => {
    const deep = (await server.client.listTools()).tools.find((t) => t.name === 'deep_task')!;
    expect(Object.keys(deep.outputSchema?.properties ?? {})).toEqual(
      expect.arrayContaining(['task_id', 'state', 'final', 'cursor', 'events', 'result']),
    );
    expect(deep.outputSchema?.required).toEqual(expect.arrayContaining(['task_id', 'state', 'final']));
    // The client checks structuredContent against the declared schema; viewOf checks it against the view schema.
    const r = await server.client.callTool({ name: 'deep_task', arguments: { prompt: '[[text:shaped]]', wait_s: 30 } });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(viewOf(r).result?.text).toBe('shaped');
  });

  it(
    'declares output schemas for task_status (one task or several) and kill_task, and their results match ' + 'them',
    async () => {
      const tools = (await server.client.listTools()).tools;
      for (const name of ['task_status', 'kill_task']) {
        const schema = tools.find((t) => t.name === name)?.outputSchema as { type?: string; anyOf?: unknown[] };
        expect(schema?.type, name).toBe('object');
        expect(schema?.anyOf, name).toHaveLength(2);
      }
      // The client checks each structuredContent against the declared schema; viewOf and viewsOf check it again.
      const id = viewOf(
        await server.client.callTool({
          name: 'deep_task',
          arguments: { prompt: `[[bash:echo k; sleep ${uniqueSleep()}]]` },
        }),
      ).task_id;
      expect(viewOf(await server.client.callTool({ name: 'task_status', arguments: { task_id: id } })).task_id).toBe(
        id,
      );
      const many = viewsOf(await server.client.callTool({ name: 'task_status', arguments: { task_ids: [id] } }));
      expect(many.tasks.map((v) => v.task_id)).toEqual([id]);
      const killed = viewOf(await server.client.callTool({ name: 'kill_task', arguments: { task_id: id } }));
      expect(killed.state).toBe('killed');
    },
  );

  it(
    'returns a task id at once while claude runs a Bash step, and shows the tool call and the final ' + 'result',
    async () => {
      const step = `step_${uniq()}`;
      const r = await server.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `run it [[bash:sleep 2 && echo ${step}]]`, wait_s: 0 },
      });
      // "At once" is behaviour, not a clock: the id came back before the task's 2 s Bash step had returned to claude.
      const stepDone = api.messageRequests(
        (q) => q.firstUserText.includes(step) && JSON.stringify(q.messages).includes('"tool_result"'),
      );
      expect(r.isError, textOf(r)).toBeFalsy();
      const started = viewOf(r);
      expect(started.task_id).toMatch(/^t_/);
      expect(['queued', 'running']).toContain(started.state);
      expect(started.final).toBe(false);
      expect(stepDone).toEqual([]);
      // long-poll until the tool call shows up
      let v = await status(started.task_id);
      const deadline = Date.now() + 30_000;
      while (!v.last_tool && !v.final && Date.now() < deadline)
        v = await status(started.task_id, { wait_s: 5, cursor: v.cursor });
      expect(v.last_tool).toMatch(/^Bash: sleep 2/);
      const fin = await waitFinal(started.task_id);
      expect(fin.state).toBe('succeeded');
      expect(fin.result?.text).toMatch(/^done: step_/);
      expect(fin.result?.num_turns).toBeGreaterThanOrEqual(2);
      expect(typeof fin.result?.cost_usd).toBe('number');
      expect(fin.turns).toBeGreaterThanOrEqual(2);
      expect(fin.tool_calls).toBe(1);
    },
  );

  it('sends increasing progress with messages when the request carries a progressToken', async () => {
    const progress: Array<{ progress: number; message?: string }> = [];
    const errors: Error[] = [];
    server.client.onerror = (e) => errors.push(e);
    const r = await server.client.callTool(
      {
        name: 'deep_task',
        arguments: { prompt: `[[bash:sleep 1 && echo p_${uniq()}]][[bash:echo second]]`, wait_s: 30 },
      },
      { onprogress: (p) => progress.push(p), timeout: 60_000 },
    );
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(viewOf(r).state).toBe('succeeded');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
    expect(progress.some((p) => /Bash: sleep 1/.test(p.message ?? ''))).toBe(true);
    expect(progress.every((p) => typeof p.message === 'string' && p.message.length > 0)).toBe(true);
    expect(errors.filter((e) => /progress/i.test(e.message))).toEqual([]);
  });

  it('kill_task stops claude and the Bash command it started, 10 times in a row, with partial output', async () => {
    for (let i = 0; i < 10; i++) {
      const marker = uniqueSleep(300);
      const r = await server.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `say hi first [[bash:echo started; sleep ${marker}]]`, wait_s: 0 },
      });
      const id = viewOf(r).task_id;
      expect(
        await waitFor(() => processesMatching(marker).length > 0, 20_000),
        `iteration ${i}: the command should start`,
      ).toBe(true);
      const k = await server.client.callTool({ name: 'kill_task', arguments: { task_id: id, reason: 'test' } });
      expect(k.isError, textOf(k)).toBeFalsy();
      const killed = viewOf(k);
      expect(killed.state).toBe('killed');
      expect(killed.end?.by).toMatch(/kill_task/);
      expect(killed.last_tool).toContain(marker);
      expect(processesMatching(marker), `iteration ${i}: survivors`).toEqual([]);
      const again = await server.client.callTool({ name: 'kill_task', arguments: { task_id: id } });
      expect(viewOf(again).state).toBe('killed');
    }
  }, 180_000);

  it('ends on max_turns with a clear message', async () => {
    const r = await server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[repeat-bash:echo loop_${uniq()}]]`, max_turns: 2, wait_s: 0 },
    });
    const fin = await waitFinal(viewOf(r).task_id);
    expect(fin.state).toBe('failed');
    expect(fin.end?.reason).toBe('max_turns');
    expect(fin.end?.message).toMatch(/max_turns/);
  });

  it('ends on max_budget_usd with the spend reported', async () => {
    const r = await server.client.callTool({
      name: 'deep_task',
      arguments: {
        prompt: `[[usage:500000,200000]][[bash:echo b_${uniq()}]][[bash:echo again]]`,
        max_budget_usd: 0.01,
        wait_s: 0,
      },
    });
    const fin = await waitFinal(viewOf(r).task_id);
    expect(fin.state).toBe('failed');
    expect(fin.end?.reason).toBe('max_budget');
    expect(fin.end?.message).toMatch(/\$\d+\.\d+ spent/);
    expect(fin.cost_usd).toBeGreaterThan(0.01);
  });

  it('times out on an idle (hanging) API with a distinct reason', async () => {
    const r = await server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: 'hang [[hang]]', idle_timeout_s: 3, wait_s: 0 },
    });
    const fin = await waitFinal(viewOf(r).task_id);
    expect(fin.state).toBe('timed_out');
    expect(fin.end?.reason).toBe('idle_timeout');
    expect(fin.end?.message).toMatch(/no event from claude for 3 s/);
  });

  it('enforces the wall timeout', async () => {
    const marker = uniqueSleep(120);
    const r = await server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:echo started; sleep ${marker}]]`, timeout_s: 4, wait_s: 0 },
    });
    const fin = await waitFinal(viewOf(r).task_id);
    expect(fin.state).toBe('timed_out');
    expect(fin.end?.reason).toBe('wall_timeout');
    expect(processesMatching(marker)).toEqual([]);
  });

  it('rejects unknown task ids with the recent ids listed', async () => {
    const r = await server.client.callTool({ name: 'task_status', arguments: { task_id: 't_doesnotexist' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/no task t_doesnotexist; recent tasks: t_/);
  });

  it('waits on several tasks with wait_for any / all', async () => {
    const ids: string[] = [];
    for (const s of [1, 3]) {
      const r = await server.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `[[bash:sleep ${s}]]`, wait_s: 0 },
      });
      ids.push(viewOf(r).task_id);
    }
    const any = await server.client.callTool({
      name: 'task_status',
      arguments: { task_ids: ids, wait_for: 'any', wait_s: 30 },
    });
    expect(viewsOf(any).finished).toContain(ids[0]);
    const all = await server.client.callTool({
      name: 'task_status',
      arguments: { task_ids: ids, wait_for: 'all', wait_s: 30 },
    });
    const views = viewsOf(all);
    expect(views.finished.sort()).toEqual([...ids].sort());
    expect(views.tasks.map((v) => v.task_id)).toEqual(ids);
  });

  it('shows the text claude is writing while it streams, and a kill mid-block keeps what was written', async () => {
    // 4,000 characters in 40 deltas, 150 ms apart: about 6 s of writing.
    const slow = '[[len:4000]][[chunk:100]][[delay:150]]';
    const started = viewOf(await server.client.callTool({ name: 'deep_task', arguments: { prompt: slow, wait_s: 0 } }));
    let v = await status(started.task_id);
    const until = Date.now() + 30_000;
    while (!v.final && (v.writing?.chars ?? 0) < 500 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      v = await status(started.task_id);
    }
    expect(v.final).toBe(false);
    expect(v.writing!.chars).toBeGreaterThanOrEqual(500);
    expect(v.writing!.chars).toBeLessThan(4000);
    expect(v.writing!.text_tail).toMatch(/^(?:[a-j])+$/);
    expect(v.progress).toMatch(/writing [\d,]+ chars/);
    const killed = viewOf(await server.client.callTool({ name: 'kill_task', arguments: { task_id: started.task_id } }));
    expect(killed.state).toBe('killed');
    expect(killed.writing).toBeUndefined();
    expect(killed.last_text.length).toBeGreaterThanOrEqual(500);
    expect(killed.last_text).toMatch(/abcdefghij/);
    // A task that finishes its block ends with the whole text, and nothing is "being written" any more.
    const whole = viewOf(
      await server.client.callTool({
        name: 'deep_task',
        arguments: { prompt: '[[len:1200]][[chunk:100]][[delay:20]]', wait_s: 30 },
      }),
    );
    expect(whole.result?.text).toHaveLength(1200);
    expect(whole.writing).toBeUndefined();
  });
});
