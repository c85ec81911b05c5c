import { TaskViewSchema, type TaskView } from '../../src/shapes/task-view.js';

// The one view shape the tools return, for tests that read it.
export type { TaskView };

// A task's view from a tool result: its structuredContent, checked against the view schema (strictly, so a field the
// schema does not name fails the test too).
export function viewOf(result: unknown): TaskView {
  const r = result as { structuredContent?: unknown; isError?: boolean; content?: Array<{ text?: string }> };
  const why = () => r.content?.[0]?.text ?? JSON.stringify(result);
  if (r.structuredContent === undefined) throw new Error(`no task view in the result: ${why()}`);
  return TaskViewSchema.strict().parse(r.structuredContent);
}
