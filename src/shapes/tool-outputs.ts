import { z } from 'zod';
import { CompareStatusSchema } from './compare.js';
import { TaskViewSchema } from './task-view.js';

// task_status over several tasks (task_ids): the ids that have finished, and each task's view.
export const TaskViewsSchema = z.object({ finished: z.array(z.string()), tasks: z.array(TaskViewSchema) });
export type TaskViews = z.infer<typeof TaskViewsSchema>;

// MCP wants an object at the root of an output schema: a union of objects says so on top of its anyOf.
const objectUnion = <A extends z.ZodObject, B extends z.ZodObject>(a: A, b: B) =>
  z.union([a, b]).meta({ type: 'object' });

// task_status's structuredContent: one task's view (task_id), or several (task_ids).
export const TaskStatusOutputSchema = objectUnion(TaskViewSchema, TaskViewsSchema);

// kill_task's structuredContent: the killed task's view (task_id), or the stopped comparison's status (compare_id).
export const KillTaskOutputSchema = objectUnion(TaskViewSchema, CompareStatusSchema);

// A tool's output schema as it is listed to clients: open to fields it does not name, at every level. A client checks
// structuredContent against it, so a view with one more field (a server of another version in a cluster, a record
// another version wrote) must not fail every call. The server's own parse, and the tests' viewOf, stay strict.
export function listedOutputSchema(schema: z.ZodType): { type: 'object'; [k: string]: unknown } {
  const json = z.toJSONSchema(schema, {
    io: 'output',
    unrepresentable: 'any',
    override: ({ jsonSchema }) => {
      if (jsonSchema.additionalProperties === false) delete jsonSchema.additionalProperties;
    },
  });
  return { ...json, type: 'object' };
}
