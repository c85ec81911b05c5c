import { z } from 'zod';
import type { ToolDefinition } from './define-tool.js';
import type { Engine, Viewer } from '../src/engine.js';

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

// Admission of a call that starts claude, the same for MCP calls and the board: an HTTP token whose daily budget is
// spent starts no claude until the next UTC midnight (checked first, so a refused call does not use up the rate
// allowance), then the rate limits. Throws a ToolError when refused.
export async function admitToolCall(engine: Engine, tool: AnyTool, viewer: Viewer, rateKey: string): Promise<void> {
  if (!tool.rateLimited) return;
  engine.spending.admit(viewer.principal);
  await engine.metrics.admitting(tool.name, () => engine.rateLimiter.admit(rateKey));
}
