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
