import { z } from 'zod';
import type { ToolAdmission, ToolServices, Viewer } from '../src/engine.js';
import type { ProgressUpdate, ToolDefinition, ToolResult } from './define-tool.js';

type AnyTool = ToolDefinition<z.ZodType, z.ZodType | undefined>;

// One parse of a tool's input, shared by MCP calls and the board: the parsed data, or the message naming the fields.
export function parseToolInput(
  tool: AnyTool,
  args: unknown,
): { ok: true; data: unknown } | { ok: false; message: string } {
  const parsed = tool.inputSchema.safeParse(args ?? {});
  if (parsed.success) return { ok: true, data: parsed.data };
  return {
    ok: false,
    message: `Invalid input for ${tool.name}:\n${z.prettifyError(parsed.error)}\nUsage: ${tool.usage}`,
  };
}

// What the guard is given: the services handlers may call, and the admission policy it applies before them.
export interface ToolHost extends ToolServices {
  readonly admission: ToolAdmission;
}

// Who calls and how, besides the input: the same for an MCP session and a board action.
export interface ToolCall {
  signal: AbortSignal;
  progress?: (update: ProgressUpdate) => Promise<void>;
  clientId: string;
  viewer: Viewer;
  /** Whose rate allowance the call uses: the MCP session (or HTTP token), or the board's signed-in principal. */
  rateKey: string;
}

// The one way into a tool's handler, for MCP calls and the board alike: a call that starts claude is admitted first
// (the caller's daily budget, then the rate limits; a ToolError when refused), and the handler gets a narrow context,
// the services and the call, never the engine. `afterAdmission` runs between the two (answers a retried call carries)
// and may name the caller's task the call resumes.
export async function callTool(
  tool: AnyTool,
  input: unknown,
  host: ToolHost,
  call: ToolCall,
  afterAdmission?: () => Promise<string | undefined>,
): Promise<ToolResult> {
  if (tool.rateLimited) await host.admission.admit(tool.name, call.viewer.principal, call.rateKey);
  const resumeTaskId = await afterAdmission?.();
  const { signal, progress, clientId, viewer } = call;
  return tool.handle(input as never, {
    tasks: host.tasks,
    compare: host.compare,
    quick: (req, s) => host.quick(req, s),
    stats: (v) => host.stats(v),
    signal,
    progress,
    clientId,
    viewer,
    resumeTaskId,
  });
}
