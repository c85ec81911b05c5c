import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { claudeChildren, processesMatching, startServer, textOf, uniqueSleep, waitFor } from './support/harness.js';
import { startRawServer, TASKS_EXTENSION, type RawServer } from './support/raw-rpc.js';

let api: ScriptedApi;
let raw: RawServer;

beforeAll(async () => {
  api = await startScriptedApi();
  raw = await startRawServer(api);
});
afterAll(async () => {
  await raw?.close();
  await api?.close();
});

async function pollToEnd(taskId: string): Promise<Record<string, unknown>> {
  const end = Date.now() + 40_000;
  for (;;) {
    const { result, error } = await raw.rpc('tasks/get', { taskId });
    expect(error).toBeUndefined();
    if (result!.status !== 'working' || Date.now() > end) return result!;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('native MCP tasks (io.modelcontextprotocol/tasks, 2026-07-28)', () => {
  it('server/discover advertises the extension', async () => {
    const s = await startServer(api, { era: 'modern' });
    try {
      expect(s.client.getServerCapabilities()?.extensions).toHaveProperty([TASKS_EXTENSION]);
    } finally {
      await s.close();
    }
  });

  it('deep_task answers a declaring client with a task handle; tasks/get polls it to the final result', async () => {
    const { result, error } = await raw.rpc('tools/call', {
      name: 'deep_task',
      arguments: { prompt: '[[bash:echo from-a-native-task]]' },
    });
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ resultType: 'task', status: 'working', ttlMs: null, pollIntervalMs: 2000 });
    expect(result).not.toHaveProperty('content');
    expect(String(result!.taskId)).toMatch(/^t_/);
    expect(Date.parse(String(result!.createdAt))).not.toBeNaN();
    const done = await pollToEnd(String(result!.taskId));
    expect(done.status).toBe('completed');
    const final = done.result as {
      isError?: boolean;
      content: Array<{ type: string; text?: string }>;
      structuredContent: { state: string; result: { text: string } };
    };
    expect(final.isError).toBeFalsy();
    expect(final.structuredContent.state).toBe('succeeded');
    expect(final.structuredContent.result.text).toContain('from-a-native-task');
    expect(final.content.some((c) => c.type === 'resource_link')).toBe(true);
  });

  it('tasks/cancel kills the task and its process tree; tasks/get then says cancelled', async () => {
    const marker = uniqueSleep(31);
    const { result } = await raw.rpc('tools/call', {
      name: 'deep_task',
      arguments: { prompt: `[[bash:echo started; sleep ${marker}]]` },
    });
    const taskId = String(result!.taskId);
    expect(await waitFor(() => processesMatching(`sleep ${marker}`).length > 0, 20_000)).toBe(true);
    const cancel = await raw.rpc('tasks/cancel', { taskId });
    expect(cancel.error).toBeUndefined();
    const after = await pollToEnd(taskId);
    expect(after.status).toBe('cancelled');
    expect(String(after.statusMessage)).toMatch(/killed by tasks\/cancel/);
    expect(
      await waitFor(
        () => processesMatching(`sleep ${marker}`).length === 0 && claudeChildren(raw.pid).length === 0,
        20_000,
      ),
    ).toBe(true);
  });

  it('a failed task is a completed call with isError; tasks/update is acknowledged', async () => {
    const { result } = await raw.rpc('tools/call', {
      name: 'deep_task',
      arguments: { prompt: '[[repeat-bash:echo again]]', max_turns: 2 },
    });
    const taskId = String(result!.taskId);
    const done = await pollToEnd(taskId);
    expect(done.status).toBe('completed');
    expect((done.result as { isError?: boolean }).isError).toBe(true);
    expect(textOf(done.result)).toMatch(/max_turns|turns/);
    expect((await raw.rpc('tasks/update', { taskId, inputResponses: {} })).error).toBeUndefined();
  });

  it(
    'refuses tasks/* without the capability (-32021) and unknown ids (-32602); bad input stays a tool ' + 'error',
    async () => {
      const none = await raw.rpc('tasks/get', { taskId: 't_whatever' }, { tasks: false });
      expect(none.error?.code).toBe(-32021);
      const unknown = await raw.rpc('tasks/get', { taskId: 't_0000000000unknown' });
      expect(unknown.error?.code).toBe(-32602);
      expect(unknown.error?.message).toMatch(/Task not found/);
      const bad = await raw.rpc('tools/call', { name: 'deep_task', arguments: { prompt: '' } });
      expect(bad.result).toMatchObject({ isError: true });
      expect(bad.result).not.toHaveProperty('resultType', 'task');
    },
  );

  it(
    'only the client that started a task reaches it through tasks/*; cancelling a finished task is ' + 'acknowledged',
    async () => {
      const { result } = await raw.rpc('tools/call', { name: 'deep_task', arguments: { prompt: '[[text:mine]]' } });
      const taskId = String(result!.taskId);
      expect((await pollToEnd(taskId)).status).toBe('completed');
      const other = await startRawServer(api, { stateDir: raw.stateDir });
      try {
        const theirs = await other.rpc('tasks/get', { taskId });
        expect(theirs.error?.code).toBe(-32602);
        expect((await other.rpc('tasks/cancel', { taskId })).error?.code).toBe(-32602);
      } finally {
        await other.close();
      }
      expect((await raw.rpc('tasks/cancel', { taskId })).error).toBeUndefined();
      expect((await raw.rpc('tasks/get', { taskId })).result?.status).toBe('completed');
    },
  );

  it(
    'without the capability even malformed tasks/* params get -32021; with it, a missing taskId is ' + '-32602',
    async () => {
      expect((await raw.rpc('tasks/get', {}, { tasks: false })).error?.code).toBe(-32021);
      expect((await raw.rpc('tasks/cancel', { taskId: 42 }, { tasks: false })).error?.code).toBe(-32021);
      const missing = await raw.rpc('tasks/get', {});
      expect(missing.error?.code).toBe(-32602);
      expect(missing.error?.message).toMatch(/taskId is required/);
    },
  );

  it('a 2026 client that does not declare the extension, and a legacy client, get the tool path', async () => {
    const plain = await raw.rpc(
      'tools/call',
      { name: 'deep_task', arguments: { prompt: '[[text:tool path]]', wait_s: 30 } },
      { tasks: false },
    );
    expect(plain.result).not.toHaveProperty('resultType', 'task');
    expect((plain.result!.structuredContent as { state: string }).state).toBe('succeeded');
    const legacy = await startServer(api);
    try {
      const r = await legacy.client.callTool({
        name: 'deep_task',
        arguments: { prompt: '[[text:legacy path]]', wait_s: 30 },
      });
      expect((r.structuredContent as { result: { text: string } }).result.text).toBe('legacy path');
    } finally {
      await legacy.close();
    }
  });
});
