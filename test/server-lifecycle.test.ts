import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import {
  claudeChildren,
  isAlive,
  processesMatching,
  startServer,
  textOf,
  uniqueSleep,
  waitFor,
} from './support/harness.js';
import { viewOf } from './support/views.js';

let api: ScriptedApi;
beforeAll(async () => {
  api = await startScriptedApi();
});
afterAll(async () => {
  await api?.close();
});

describe('server lifecycle', () => {
  it('MCP cancellation of quick_answer kills its claude process', async () => {
    const s = await startServer(api);
    try {
      const controller = new AbortController();
      const call = s.client.callTool(
        { name: 'quick_answer', arguments: { prompt: 'slow [[len:300]][[chunk:10]][[delay:1000]]' } },
        { signal: controller.signal },
      );
      const settled = call.then(
        () => 'resolved',
        () => 'rejected',
      );
      expect(await waitFor(() => claudeChildren(s.pid).length === 1, 10_000)).toBe(true);
      const pid = claudeChildren(s.pid)[0]!;
      controller.abort();
      expect(await settled).toBe('rejected');
      expect(await waitFor(() => !isAlive(pid), 20_000), 'claude should be gone after the cancel').toBe(true);
      const next = await s.client.callTool({ name: 'quick_answer', arguments: { prompt: '[[text:after cancel]]' } });
      expect(textOf(next)).toBe('after cancel');
    } finally {
      await s.close();
    }
  });

  it(
    'SIGTERM: exits promptly, kills running tasks and their tools, marks them killed (server shutdown) on ' + 'disk',
    async () => {
      const marker = uniqueSleep(200);
      const s = await startServer(api);
      const r = await s.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `[[bash:echo started; sleep ${marker}]]`, wait_s: 0 },
      });
      const id = viewOf(r).task_id;
      expect(await waitFor(() => processesMatching(marker).length > 0, 20_000)).toBe(true);
      const t0 = Date.now();
      process.kill(s.pid, 'SIGTERM');
      expect(await waitFor(() => !isAlive(s.pid), 30_000, 20)).toBe(true);
      // limits.shutdownMs (1.4 s) caps it; 10x that for a busy machine. `npm run bench -- shutdown` has the figure.
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(processesMatching(marker)).toEqual([]);
      await s.close().catch(() => {});
      const s2 = await startServer(api, { stateDir: s.stateDir });
      try {
        const v = viewOf(await s2.client.callTool({ name: 'task_status', arguments: { task_id: id } }));
        expect(v.state).toBe('killed');
        expect(v.end?.reason).toBe('shutdown');
        expect(v.end?.message).toMatch(/SIGTERM/);
      } finally {
        await s2.close();
      }
    },
  );

  it("two servers share one state dir: a live server's running task is not declared lost by the other", async () => {
    const marker = uniqueSleep(100);
    const a = await startServer(api);
    const b = await startServer(api, { stateDir: a.stateDir });
    try {
      const r = await a.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `[[bash:echo started; sleep ${marker}]]`, wait_s: 0 },
      });
      const id = viewOf(r).task_id;
      expect(await waitFor(() => processesMatching(marker).length > 0, 20_000)).toBe(true);
      const seen = viewOf(await b.client.callTool({ name: 'task_status', arguments: { task_id: id } }));
      expect(seen.state).toBe('running');
      const refused = await b.client.callTool({ name: 'kill_task', arguments: { task_id: id } });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/belongs to another claude-tiers server/);
      await a.client.callTool({ name: 'kill_task', arguments: { task_id: id } });
      const after = viewOf(await b.client.callTool({ name: 'task_status', arguments: { task_id: id } }));
      expect(after.state).toBe('killed');
    } finally {
      await a.close();
      await b.close();
    }
    expect(processesMatching(marker)).toEqual([]);
  });
});
