import { TaskViewSchema, type TaskView } from '../../src/shapes/task-view.js';
import { TaskViewsSchema, type TaskViews } from '../../src/shapes/tool-outputs.js';

// The one view shape the tools return, for tests that read it.
export type { TaskView, TaskViews };

// A tool result's structuredContent, or a test failure that quotes the result.
function structuredOf(result: unknown, what: string): unknown {
  const r = result as { structuredContent?: unknown; isError?: boolean; content?: Array<{ text?: string }> };
  if (r.structuredContent === undefined)
    throw new Error(`no ${what} in the result: ${r.content?.[0]?.text ?? JSON.stringify(result)}`);
  return r.structuredContent;
}

// A task's view from a tool result: its structuredContent, checked against the view schema (strictly, so a field the
// schema does not name fails the test too).
export function viewOf(result: unknown): TaskView {
  return TaskViewSchema.strict().parse(structuredOf(result, 'task view'));
}

// task_status over several tasks (task_ids): the finished ids and each view, checked as strictly as viewOf.
export function viewsOf(result: unknown): TaskViews {
  return TaskViewsSchema.extend({ tasks: TaskViewSchema.strict().array() })
    .strict()
    .parse(structuredOf(result, 'task views'));
}

// A task's final view: task_status long-polled (wait_s, cursor) until the task is final or the time is up.
export async function finalView(
  client: { callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown> },
  id: string,
  timeoutMs = 120_000,
): Promise<TaskView> {
  let v = viewOf(await client.callTool({ name: 'task_status', arguments: { task_id: id } }));
  for (const end = Date.now() + timeoutMs; !v.final && Date.now() < end;)
    v = viewOf(
      await client.callTool({ name: 'task_status', arguments: { task_id: id, wait_s: 10, cursor: v.cursor } }),
    );
  return v;
}
