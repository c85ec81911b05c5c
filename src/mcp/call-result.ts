import type { CallToolResult } from '@modelcontextprotocol/server';
import type { ToolResult } from '../../tools/define-tool.js';

// A tool's result as MCP content: the text, its resource links, and structured content on success.
export function toCallResult(result: ToolResult): CallToolResult {
  const content: CallToolResult['content'] = [{ type: 'text', text: result.text }];
  for (const link of result.links ?? []) content.push({ type: 'resource_link', ...link });
  const out: CallToolResult = { content };
  if (result.structured && !result.isError) out.structuredContent = result.structured;
  if (result.isError) out.isError = true;
  return out;
}

// A readable tool error (isError), never a protocol failure.
export function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
