import {
  CLIENT_CAPABILITIES_META_KEY,
  inputRequired,
  inputResponse,
  type ClientCapabilities,
  type InputRequiredResult,
  type Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { ToolResult } from '../../tools/define-tool.js';
import type { McpTasks, Viewer } from '../engine.js';
import { questionLine } from '../claude/decision-text.js';
import type { InputRequest } from '../tasks/input-requests.js';

// A task's permission request asked through the protocol: an elicitation inside an input_required result. The
// 2026-07-28 client's SDK answers it with its elicitation handler and retries the call (multi-round-trip); for a legacy
// client that declared elicitation, the SDK's shim sends elicitation/create while the call is in flight. One mechanism,
// both eras.

const KEY = /^perm:(t_[A-Za-z0-9_-]{4,64}):(p_[A-Za-z0-9_-]{4,32})$/;

// The form a client shows: allow or deny, and a reason for a denial.
export const DECISION_SCHEMA = {
  type: 'object' as const,
  properties: {
    decision: {
      type: 'string' as const,
      enum: ['allow', 'deny'],
      title: 'Decision',
      description: 'allow: claude runs the tool as asked; deny: it does not',
    },
    message: { type: 'string' as const, title: 'Reason', description: 'With deny: the reason claude is given' },
  },
  required: ['decision'],
};

// The elicitation for one request of one task (its key names both, so an answer finds its way back).
export function elicitationFor(
  taskId: string,
  q: InputRequest,
): { key: string; params: { mode: 'form'; message: string; requestedSchema: typeof DECISION_SCHEMA } } {
  return {
    key: `perm:${taskId}:${q.request_id}`,
    params: {
      mode: 'form',
      message:
        `Task ${taskId} asks for permission: ${questionLine(q)}; it will be denied ` +
        `at ${q.expires_at} if nobody answers.`,
      requestedSchema: DECISION_SCHEMA,
    },
  };
}

// True when this request's client can answer an elicitation (per-request capabilities, else the session's).
export function canElicit(server: Server, ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const caps =
    (envelope?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined) ?? server.getClientCapabilities();
  return !!caps?.elicitation;
}

// Answers of elicitations (from a retried call or tasks/update) applied to their tasks; decline and cancel deny.
export async function applyInputResponses(
  tasks: Pick<McpTasks, 'answer'>,
  responses: Record<string, unknown> | undefined,
  viewer: Viewer,
  by: string,
  onlyTask?: string,
): Promise<void> {
  for (const key of Object.keys(responses ?? {})) {
    const m = KEY.exec(key);
    if (!m || (onlyTask && m[1] !== onlyTask)) continue;
    const view = inputResponse(responses, key);
    if (view.kind !== 'elicit') continue;
    const content = (view.content ?? {}) as { decision?: unknown; message?: unknown };
    const allow = view.action === 'accept' && content.decision === 'allow';
    const message =
      typeof content.message === 'string' && content.message
        ? content.message
        : `denied by ${by} (${view.action === 'accept' ? 'deny' : view.action})`;
    // Unknown or already-answered keys are ignored: the answer may arrive after the deadline.
    await tasks
      .answer(m[1]!, m[2]!, { decision: allow ? 'allow' : 'deny', ...(allow ? {} : { message }), by }, viewer)
      .catch(() => undefined);
  }
}

// The open requests a tool result shows (task_status of one task or several, deep_task).
function openRequests(result: ToolResult): Array<{ taskId: string; q: InputRequest }> {
  const s = result.structured as
    | {
        task_id?: string;
        input_request?: InputRequest;
        tasks?: Array<{ task_id: string; input_request?: InputRequest }>;
      }
    | undefined;
  const views = s?.tasks ?? (s?.task_id ? [{ task_id: s.task_id, input_request: s.input_request }] : []);
  return views.filter((v) => v.input_request).map((v) => ({ taskId: v.task_id, q: v.input_request! }));
}

// An input_required result asking the client about the open requests a result shows, or undefined when there are none.
export function askClient(
  result: ToolResult,
  alreadyAnswered: Record<string, unknown> | undefined,
): InputRequiredResult | undefined {
  const open = openRequests(result);
  const asks = open
    .map(({ taskId, q }) => elicitationFor(taskId, q))
    .filter((e) => !Object.hasOwn(alreadyAnswered ?? {}, e.key));
  if (!asks.length) return undefined;
  // The retried call resumes the task it was about (deep_task must not start a second one).
  const single = (result.structured as { task_id?: string } | undefined)?.task_id;
  return inputRequired({
    inputRequests: Object.fromEntries(asks.map((e) => [e.key, inputRequired.elicit(e.params)])),
    ...(single ? { requestState: `task:${single}` } : {}),
  });
}

// The caller's own task a retried call resumes, from its request state (attacker-controlled: checked against the
// client).
export async function resumedTask(
  tasks: Pick<McpTasks, 'record'>,
  ctx: ServerContext,
  clientId: string,
): Promise<string | undefined> {
  const state = ctx.mcpReq.requestState<unknown>();
  const id = typeof state === 'string' ? /^task:(t_[A-Za-z0-9_-]{4,64})$/.exec(state)?.[1] : undefined;
  // Read again: behind a load balancer the retry may reach another server of the cluster than the first call.
  return id && (await tasks.record(id).catch(() => undefined))?.clientId === clientId ? id : undefined;
}
