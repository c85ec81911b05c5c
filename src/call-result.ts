import type { CallToolResult } from '@modelcontextprotocol/server';
import type { ToolResult } from '../tools/define-tool.js';
import { eventsLink } from './resources.js';
import type { LiveTask } from './tasks/live-task.js';
import type { Registry } from './tasks/registry.js';
import type { TaskRecord } from './tasks/types.js';
import { taskView, viewText } from './tasks/view.js';

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

// One task as a tool result: its view as text and structured content, with a link to its event log.
export async function taskResult(registry: Registry, record: TaskRecord, opts: { tail: number; isError?: boolean; live?: LiveTask }): Promise<ToolResult> {
  const view = await taskView(registry.store, record, opts.live ?? registry.getLive(record.id), { tail: opts.tail });
  return { text: viewText(view), structured: view as unknown as Record<string, unknown>, links: [eventsLink(record.id)], isError: opts.isError };
}
