import type { ControlRequestEvent } from './events.js';

// The stream-json messages a host writes to claude's stdin, and its answers to claude's control requests: the
// whole control protocol in one place.

// Content of a user message: plain text, or content blocks (text, image).
export type UserContent = string | Array<Record<string, unknown>>;

// One user turn on stdin; the prompt travels as data here, never in argv.
export function userMessage(content: UserContent): Record<string, unknown> {
  return { type: 'user', message: { role: 'user', content }, parent_tool_use_id: null, session_id: '' };
}

// What the host sets up before the first prompt instead of in argv (the SDK's initialize request carries the same).
export interface RunSetup {
  /** JSON Schema for the final answer: claude offers a StructuredOutput tool and returns structured_output. */
  jsonSchema?: Record<string, unknown>;
}

// The initialize control request: set-up that would otherwise travel in argv.
export function initializeRequest(requestId: string, setup: RunSetup): Record<string, unknown> {
  return {
    type: 'control_request',
    request_id: requestId,
    request: { subtype: 'initialize', ...(setup.jsonSchema ? { jsonSchema: setup.jsonSchema } : {}) },
  };
}

// Asks claude to stop the turn at once; it answers with a control_response, then a result (aborted_tools /
// aborted_streaming).
export function interruptRequest(requestId: string): Record<string, unknown> {
  return { type: 'control_request', request_id: requestId, request: { subtype: 'interrupt' } };
}

// A can_use_tool request (claude spawned with --permission-prompt-tool stdio): which tool, with what input, and why it
// asks.
export interface PermissionRequest {
  requestId: string;
  toolName: string;
  input: unknown;
  toolUseId?: string;
  reason?: string;
}

// The host's answer to a permission request; a deny message reaches the model as the reason.
export type PermissionDecision = { behavior: 'allow'; updatedInput?: unknown } | { behavior: 'deny'; message: string };

// Who answers permission requests for a run (the next layer forwards them to the MCP caller).
export type PermissionHook = (request: PermissionRequest, signal: AbortSignal) => Promise<PermissionDecision>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

// Reads a can_use_tool request out of a control_request event; undefined for any other subtype.
export function permissionRequestOf(event: ControlRequestEvent): PermissionRequest | undefined {
  const r = event.request as Record<string, unknown>;
  if (r.subtype !== 'can_use_tool') return undefined;
  const reason =
    str(r.decision_reason) ??
    str((r.decision_reason as { reason?: unknown } | undefined)?.reason) ??
    str(r.blocked_path);
  return {
    requestId: event.request_id,
    toolName: str(r.tool_name) ?? '?',
    input: r.input,
    toolUseId: str(r.tool_use_id),
    ...(reason ? { reason } : {}),
  };
}

// The control_response line that answers claude's control request `requestId`.
export function controlResponse(
  requestId: string,
  answer: { response: Record<string, unknown> } | { error: string },
): Record<string, unknown> {
  return 'error' in answer
    ? { type: 'control_response', response: { subtype: 'error', request_id: requestId, error: answer.error } }
    : { type: 'control_response', response: { subtype: 'success', request_id: requestId, response: answer.response } };
}

// A decision as claude expects it on the wire (allow always carries the input to run with).
export function decisionPayload(decision: PermissionDecision, input: unknown): Record<string, unknown> {
  return decision.behavior === 'allow'
    ? { behavior: 'allow', updatedInput: decision.updatedInput ?? input }
    : { behavior: 'deny', message: decision.message };
}
