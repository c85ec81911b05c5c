import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configFile,
  ROOT,
  SERVER_ENTRY,
  serverEnv,
  startServer,
  textOf,
  waitForValue,
  type StartedServer,
} from './support/harness.js';
import { startRawServer, type RawServer } from './support/raw-rpc.js';
import { startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { viewOf, type TaskView as View } from './support/views.js';

// Issue 12: a permission claude's tier does not grant becomes a question to the caller: the tool path (task_status
// shows needs_input, answer_task answers), and the protocol paths (MRTR elicitation, legacy elicitation/create,
// tasks/update).
let api: ScriptedApi;
let config: string;
let server: StartedServer;
const uniq = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
// acceptEdits runs plain commands; one that reaches the network needs a decision (Bash is not pre-allowed here).
const asking = (tag: string) => `[[bash:curl -s http://127.0.0.1:9/; echo ${tag}]]`;

beforeAll(async () => {
  api = await startScriptedApi();
  config = join(mkdtempSync(join(tmpdir(), 'ct-perm-')), 'config.json');
  writeFileSync(
    config,
    JSON.stringify({ tiers: { comprehensive: { mcpConfig: null, allowedTools: ['Read'], permissionTimeoutS: 3 } } }),
  );
  server = await startServer(api, { env: { CLAUDE_TIERS_CONFIG: config } });
});
afterAll(async () => {
  await server?.close();
  await api?.close();
});

async function until(s: StartedServer, id: string, done: (v: View) => boolean): Promise<View> {
  const end = Date.now() + 40_000;
  let v = viewOf(await s.client.callTool({ name: 'task_status', arguments: { task_id: id } }));
  while (!done(v) && Date.now() < end)
    v = viewOf(
      await s.client.callTool({ name: 'task_status', arguments: { task_id: id, wait_s: 5, cursor: v.cursor } }),
    );
  return v;
}
const toolResultsWith = (text: string) =>
  api.requests.filter(
    (r) => JSON.stringify(r.messages).includes('tool_result') && JSON.stringify(r.messages).includes(text),
  );

describe('permission requests: the tool path', () => {
  it('needs_input shows the command; answer_task allow runs it and the task succeeds with its output', async () => {
    const tag = `ALLOWED_${uniq()}`;
    const r = await server.client.callTool({ name: 'deep_task', arguments: { prompt: asking(tag), wait_s: 0 } });
    const id = viewOf(r).task_id;
    const waiting = await until(server, id, (v) => v.state === 'needs_input' || v.final);
    expect(waiting.state).toBe('needs_input');
    expect(waiting.input_request?.tool).toBe('Bash');
    expect((waiting.input_request?.input as { command?: string } | undefined)?.command).toContain(tag);
    expect(waiting.progress).toMatch(/waiting for permission: Bash \{"command":"curl/);
    const listed = (await server.client.callTool({ name: 'list_tasks', arguments: { state: 'needs_input' } }))
      .structuredContent as { tasks: Array<{ task_id: string }> };
    expect(listed.tasks.map((t) => t.task_id)).toContain(id);
    const answered = await server.client.callTool({
      name: 'answer_task',
      arguments: { task_id: id, request_id: waiting.input_request!.request_id, decision: 'allow' },
    });
    expect(answered.isError, textOf(answered)).toBeFalsy();
    const again = await server.client.callTool({
      name: 'answer_task',
      arguments: { task_id: id, request_id: waiting.input_request!.request_id, decision: 'deny' },
    });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toMatch(/already answered/);
    const fin = await until(server, id, (v) => v.final);
    expect(fin.state).toBe('succeeded');
    expect(fin.result?.text).toContain(tag);
  });

  it('deny with a message puts the message into the tool_result claude sends to the API', async () => {
    const reason = `NOT_TODAY_${uniq()}`;
    const id = viewOf(
      await server.client.callTool({ name: 'deep_task', arguments: { prompt: asking('x'), wait_s: 0 } }),
    ).task_id;
    const waiting = await until(server, id, (v) => v.state === 'needs_input' || v.final);
    await server.client.callTool({
      name: 'answer_task',
      arguments: { task_id: id, request_id: waiting.input_request!.request_id, decision: 'deny', message: reason },
    });
    expect((await until(server, id, (v) => v.final)).state).toBe('succeeded');
    expect(toolResultsWith(reason).length).toBeGreaterThan(0);
  });

  it('no answer within permissionTimeoutS is a denial, and the task ends normally', async () => {
    const id = viewOf(
      await server.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `${asking('late')} ${uniq()}`, wait_s: 0 },
      }),
    ).task_id;
    const fin = await until(server, id, (v) => v.final);
    expect(fin.state).toBe('succeeded');
    expect(toolResultsWith('no answer within 3 s').length).toBeGreaterThan(0);
  });

  it('answer_task for an unknown task or request is a clear error', async () => {
    const unknownTask = await server.client.callTool({
      name: 'answer_task',
      arguments: { task_id: 't_nosuchtask', request_id: 'p_nosuch', decision: 'allow' },
    });
    expect(textOf(unknownTask)).toMatch(/no task t_nosuchtask/);
    const id = viewOf(
      await server.client.callTool({ name: 'deep_task', arguments: { prompt: '[[text:quiet]]', wait_s: 10 } }),
    ).task_id;
    const unknownRequest = await server.client.callTool({
      name: 'answer_task',
      arguments: { task_id: id, request_id: 'p_nosuch', decision: 'allow' },
    });
    expect(textOf(unknownRequest)).toMatch(/no open request p_nosuch/);
  });
});

// What tasks/get says of a task on a raw server once its status is `status` (polled for 30 s).
const tasksGetWhen = (raw: RawServer, taskId: string, status: string) =>
  waitForValue(
    async () => {
      const got = (await raw.rpc('tasks/get', { taskId })).result;
      return got?.status === status ? got : undefined;
    },
    30_000,
    200,
  );

// A real SDK client that answers elicitations (allow), in either era.
async function elicitingClient(
  era: 'legacy' | 'modern',
  asked: string[],
): Promise<{ deepTask(prompt: string): Promise<View>; close(): Promise<void> }> {
  const { env } = await serverEnv(api, { env: { CLAUDE_TIERS_CONFIG: config } });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SERVER_ENTRY],
    env,
    cwd: ROOT,
    stderr: 'pipe',
  });
  const client = new Client(
    { name: 'eliciting-test', version: '1.0.0' },
    {
      capabilities: { elicitation: {} },
      ...(era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {}),
    },
  );
  client.setRequestHandler('elicitation/create', async (request) => {
    asked.push(String((request.params as { message?: string }).message));
    return { action: 'accept', content: { decision: 'allow' } };
  });
  await client.connect(transport);
  // A deep task of prompt, waited for (30 s in its call, then 30 s more in task_status): its view then.
  const deepTask = async (prompt: string): Promise<View> => {
    const opts = { timeout: 120_000 };
    const v = viewOf(await client.callTool({ name: 'deep_task', arguments: { prompt, wait_s: 30 } }, opts));
    if (v.final) return v;
    return viewOf(await client.callTool({ name: 'task_status', arguments: { task_id: v.task_id, wait_s: 30 } }, opts));
  };
  return { deepTask, close: () => client.close() };
}

describe('permission requests: the protocol paths', () => {
  for (const era of ['modern', 'legacy'] as const) {
    it(
      `${era === 'modern' ? '2026-07-28 (input_required, multi-round-trip)' : 'legacy (elicitation/create)'}: ` +
        `a deep_task in flight asks the client, whose answer runs the command`,
      async () => {
        const asked: string[] = [];
        const c = await elicitingClient(era, asked);
        try {
          const tag = `VIA_${era}_${uniq()}`;
          const fin = await c.deepTask(asking(tag));
          expect(asked.length).toBe(1);
          expect(asked[0]).toMatch(/asks for permission: Bash \{"command":"curl/);
          expect(fin.state).toBe('succeeded');
          expect(fin.result?.text).toContain(tag);
        } finally {
          await c.close();
        }
      },
    );
  }

  it('tasks extension: tasks/get reports input_required with the elicitation; tasks/update answers it', async () => {
    const raw = await startRawServer(api, { env: { CLAUDE_TIERS_CONFIG: config } });
    try {
      const tag = `VIA_TASKS_${uniq()}`;
      const { result } = await raw.rpc('tools/call', { name: 'deep_task', arguments: { prompt: asking(tag) } });
      const taskId = String(result!.taskId);
      const asking2 = await tasksGetWhen(raw, taskId, 'input_required');
      const requests = asking2.inputRequests as Record<string, { method: string; params: { message: string } }>;
      const [key, req] = Object.entries(requests)[0]!;
      expect(req.method).toBe('elicitation/create');
      expect(req.params.message).toContain(tag);
      expect(
        (
          await raw.rpc('tasks/update', {
            taskId,
            inputResponses: { [key]: { action: 'accept', content: { decision: 'allow' } } },
          })
        ).error,
      ).toBeUndefined();
      const done = await tasksGetWhen(raw, taskId, 'completed');
      expect(
        (done.result as { structuredContent: { result: { text: string } } }).structuredContent.result.text,
      ).toContain(tag);
    } finally {
      await raw.close();
    }
  });

  // Issue 19, item 12: the dangerous part of a long command came after the cut of every place that asks a person.
  it(
    'a long command: the elicitation, task_status and tasks/get show its dangerous tail; short places say ' +
      'they are shortened',
    async () => {
      const tail = `echo DANGER_TAIL_${uniq()}`;
      const long = `[[bash:curl -s http://127.0.0.1:9/; echo ${'harmless '.repeat(60)}; ${tail}]]`;
      const asked: string[] = [];
      const c = await elicitingClient('modern', asked);
      try {
        const fin = await c.deepTask(long);
        expect(fin.state).toBe('succeeded');
        expect(asked).toHaveLength(1);
        expect(asked[0]).toContain(tail);
        expect(asked[0]).not.toContain('shortened');
      } finally {
        await c.close();
      }
      // The question stays open while it is read from three places: a deadline far away.
      const patient = configFile({
        tiers: { comprehensive: { mcpConfig: null, allowedTools: ['Read'], permissionTimeoutS: 120 } },
      });
      const raw = await startRawServer(api, { env: { CLAUDE_TIERS_CONFIG: patient } });
      try {
        const { result } = await raw.rpc('tools/call', { name: 'deep_task', arguments: { prompt: long } });
        const taskId = String(result!.taskId);
        type Got = {
          status: string;
          statusMessage: string;
          inputRequests?: Record<string, { params: { message: string } }>;
        };
        const got = (await tasksGetWhen(raw, taskId, 'input_required')) as Got;
        // The progress line is short: head, tail, length, and that it was shortened.
        expect(got.statusMessage).toContain(tail);
        expect(got.statusMessage).toContain('curl -s http://127.0.0.1:9/');
        expect(got.statusMessage).toMatch(/ … .*\(shortened, [\d,]+ chars\)/);
        expect(got.statusMessage.length).toBeLessThan(400);
        expect(Object.values(got.inputRequests ?? {})[0]?.params.message).toContain(tail);
        const status = (
          await raw.rpc('tools/call', { name: 'task_status', arguments: { task_id: taskId } }, { tasks: false })
        ).result as { content: Array<{ text: string }>; structuredContent: View };
        expect(status.structuredContent.progress).toContain(tail);
        const needsInput = status.content[0]!.text.split('\n').find((l) => l.startsWith('needs input:'));
        expect(needsInput).toContain(tail);
        expect(needsInput).toContain(`${'harmless '.repeat(60).trim()}`);
        await raw.rpc('tasks/cancel', { taskId });
      } finally {
        await raw.close();
      }
    },
  );
});
