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
