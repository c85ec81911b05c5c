// The task shapes live in src/shapes (one zod schema each, types from z.infer); re-exported here for the modules
// that import them from the tasks folder.
export {
  END_REASONS,
  FINAL_STATES,
  isFinal,
  readTaskRecord,
  TASK_STATES,
  TaskRecordSchema,
} from '../shapes/task-record.js';
export type {
  EndInfo,
  ProcRef,
  TaskRecord,
  TaskResult,
  TaskState,
  TaskStats,
  ToolCallInfo,
} from '../shapes/task-record.js';
export type { TaskRequest } from '../shapes/requests.js';
export { LOCAL_PRINCIPAL, visibleTo, type Viewer } from '../shapes/principal.js';

// One compact, human-readable event line kept in memory for task_status.
export interface EventLine {
  seq: number;
  at: number;
  text: string;
}
