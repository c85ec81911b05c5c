import type { z } from 'zod';
import type { ToolServices, Viewer } from '../src/engine.js';

// A progress update; sent only when the request carried a progressToken.
export interface ProgressUpdate {
  progress: number;
  total?: number;
  message?: string;
}

// What a handler gets besides its parsed input: the services it may call (never the engine) and who calls, how.
export interface ToolContext extends ToolServices {
  signal: AbortSignal;
  /** Undefined when the client sent no progressToken: then no progress is sent at all. */
  progress?: (update: ProgressUpdate) => Promise<void>;
  /** MCP session id (HTTP) or a per-connection id (stdio), for per-client limits and audit. */
  clientId: string;
  /** Who is asking: tasks belong to the principal that started them (the local user, or an HTTP token). */
  viewer: Viewer;
  /**
   * A retried call (after the client answered a question) resumes this task of the caller's instead of starting anew.
   */
  resumeTaskId?: string;
}

export interface ToolResult {
  text: string;
  structured?: Record<string, unknown>;
  isError?: boolean;
  links?: Array<{ uri: string; name: string; mimeType?: string; description?: string }>;
}

export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

// One MCP tool: schema and thin handler; input is parsed once by the dispatcher, never in the handler.
export interface ToolDefinition<
  I extends z.ZodType = z.ZodType,
  O extends z.ZodType | undefined = z.ZodType | undefined,
> {
  name: string;
  title: string;
  description: string;
  inputSchema: I;
  outputSchema?: O;
  annotations: ToolAnnotations;
  /** One line on how to call the tool right, appended to input errors. */
  usage: string;
  /** Calls that start claude count against the per-client and global rate limits. */
  rateLimited?: boolean;
  /**
   * Results that show a task's open permission request are asked of the client as an elicitation when it can answer.
   */
  asksCaller?: boolean;
  /** Its results are tasks the board (the MCP App ui://claude-tiers/board) can show: linked in the tool's _meta. */
  showsBoard?: boolean;
  /** Tools that start a task: the input to use when the client runs it as a native MCP task (no waiting). */
  taskInput?: (input: z.output<I>) => z.output<I>;
  handle(input: z.output<I>, ctx: ToolContext): Promise<ToolResult>;
}

// Identity helper that keeps the input type of each tool checked against its schema.
export function defineTool<I extends z.ZodType, O extends z.ZodType | undefined = undefined>(
  def: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  return def;
}
