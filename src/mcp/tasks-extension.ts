import {
  CLIENT_CAPABILITIES_META_KEY,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  type CallToolResult,
  type ClientCapabilities,
  type JSONRPCRequest,
  type Result,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { toCallResult } from './call-result.js';
import type { Engine } from '../engine.js';
import type { OnDemand } from '../on-demand.js';
import { formatProgress } from '../tasks/progress.js';
import { isFinal, type TaskRecord, type Viewer } from '../tasks/types.js';
import { applyInputResponses, elicitationFor } from './input.js';

// Native MCP tasks (extension io.modelcontextprotocol/tasks, protocol 2026-07-28). The SDK has no tasks API yet:
// this module is the whole layer (handle, tasks/get|update|cancel), to be swapped for the SDK's when it lands.
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
export const TASKS_CAPABILITY = { [TASKS_EXTENSION]: {} };
const POLL_INTERVAL_MS = 2000;

type TaskStatus = 'working' | 'input_required' | 'completed' | 'cancelled' | 'failed';

// True when this request declared the tasks extension in its per-request client capabilities.
export function declaresTasks(ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const caps = envelope?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
  const extensions = (caps as { extensions?: Record<string, unknown> } | undefined)?.extensions;
  return !!extensions && Object.hasOwn(extensions, TASKS_EXTENSION);
}

// A Server whose tools/call may answer with a task handle: the SDK adds `content: []` to every tools/call
// result, which a handle must not carry.
export class TaskAwareServer extends Server {
  protected override _wrapHandler(
    method: string,
    handler: (request: JSONRPCRequest, ctx: ServerContext) => Promise<Result>,
  ) {
    const wrapped = super._wrapHandler(method, handler);
    if (method !== 'tools/call') return wrapped;
    return async (request: JSONRPCRequest, ctx: ServerContext): Promise<Result> => {
      const result = await wrapped(request, ctx);
      if (result['resultType'] !== 'task') return result;
      const { content: _content, ...handle } = result as Record<string, unknown>;
      return handle as Result;
    };
  }
}

// A task's state in the extension's terms. A task that ended badly is a completed tool call with isError
// (the extension keeps `failed` for protocol errors); a killed task is cancelled.
function statusOf(record: TaskRecord): TaskStatus {
  if (record.state === 'needs_input' && record.inputRequest) return 'input_required';
  if (!isFinal(record.state)) return 'working';
  return record.state === 'killed' ? 'cancelled' : 'completed';
}

function inputRequestsOf(
  record: TaskRecord,
): Record<string, { method: 'elicitation/create'; params: ReturnType<typeof elicitationFor>['params'] }> {
  const e = elicitationFor(record.id, record.inputRequest!);
  return { [e.key]: { method: 'elicitation/create', params: e.params } };
}

// The task object of the extension, built from our record (ids are shared: task_status and kill_task work too).
export function taskObject(record: TaskRecord, writing?: { chars: number }): Record<string, unknown> {
  const status = statusOf(record);
  return {
    taskId: record.id,
    status,
    statusMessage: isFinal(record.state)
      ? (record.end?.message ?? record.state)
      : formatProgress(record, Date.now(), writing),
    createdAt: new Date(record.createdAt).toISOString(),
    lastUpdatedAt: new Date(record.updatedAt).toISOString(),
    // Records are kept until pruned by count (limits.pruneMaxTasks), not by age.
    ttlMs: null,
    ...(status === 'working' || status === 'input_required' ? { pollIntervalMs: POLL_INTERVAL_MS } : {}),
    // Every open request, as the elicitation to answer through tasks/update.
    ...(status === 'input_required' ? { inputRequests: inputRequestsOf(record) } : {}),
  };
}

// The tools/call answer for a task started on behalf of a tasks-aware client.
export function taskHandle(record: TaskRecord): CallToolResult {
  // SDK type gap: its result types hide resultType and know no task handle (the extension's answer has no content).
  return { resultType: 'task', ...taskObject(record) } as unknown as CallToolResult;
}

// Params are checked after the capability, so a client without it always gets -32021 (the extension says MUST).
const AnyParams = z.looseObject({});
const TaskIdParams = z.looseObject({ taskId: z.string().min(1).max(200) });

// Serves tasks/get, tasks/update and tasks/cancel from the shared registry, for tasks this client started.
// (The tool path — task_status, kill_task, list_tasks — is shared by the principal: every session of one HTTP token
// follows the same tasks. tasks/* follows the extension: only the requesting client reaches its tasks.)
export function registerTaskMethods(server: Server, ready: OnDemand<Engine>, clientId: string, viewer: Viewer): void {
  // The engine is built while the server already answers (start-up); every handler that needs it waits for it.
  let engine!: Engine;
  const ensure = async () => (engine ??= await ready.get());
  const taskIdOf = (ctx: ServerContext, params: unknown): string => {
    if (!declaresTasks(ctx))
      throw new MissingRequiredClientCapabilityError(
        { requiredCapabilities: { extensions: TASKS_CAPABILITY } },
        `tasks/* needs the client capability ${TASKS_EXTENSION}`,
      );
    const parsed = TaskIdParams.safeParse(params);
    if (!parsed.success)
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'taskId is required: pass the taskId of a task handle');
    return parsed.data.taskId;
  };
  const owned = async (taskId: string): Promise<TaskRecord> => {
    await ensure();
    const record = await engine.tasks.record(taskId);
    // Another client's task is as unknown as a missing one.
    if (!record || record.clientId !== clientId)
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Failed to retrieve task: Task not found (${taskId})`);
    return record;
  };

  server.setRequestHandler('tasks/get', { params: AnyParams }, async (params, ctx) => {
    const record = await owned(taskIdOf(ctx, params));
    const task = taskObject(record, engine.tasks.writingOf(record.id));
    if (task.status !== 'completed') return task;
    return {
      ...task,
      result: toCallResult(await engine.tasks.reply(record.id, { tail: 10, isError: record.state !== 'succeeded' })),
    };
  });

  // The answers to a task's input requests (the SDK lifts inputResponses out of params into the context).
  server.setRequestHandler('tasks/update', { params: AnyParams }, async (params, ctx) => {
    const record = await owned(taskIdOf(ctx, params));
    await applyInputResponses(engine.tasks, ctx.mcpReq.inputResponses, viewer, `tasks/update (${clientId})`, record.id);
    return {};
  });

  // Cancel = kill_task: the whole process tree goes; task_status keeps the partial output. A task run by another
  // server on the same state dir gets a kill request, which that server acts on within a second.
  server.setRequestHandler('tasks/cancel', { params: AnyParams }, async (params, ctx) => {
    const record = await owned(taskIdOf(ctx, params));
    await engine.tasks.cancel(record.id, 'tasks/cancel');
    return {};
  });
}
