import type { Viewer } from '../engine.js';
import type { BoardRow, FileDiff } from '../shapes/board.js';
import type { TaskView } from '../shapes/task-view.js';
import type { TaskState } from '../tasks/types.js';

// A row of the board's list and a changed file of a task's branch: their schemas are in src/shapes.
export type { BoardRow, FileDiff } from '../shapes/board.js';

// The list with its filters applied, and the count of each state among the tasks the viewer may see.
export interface BoardList {
  counts: Partial<Record<TaskState, number>>;
  rows: BoardRow[];
}

// What the list is filtered by (all optional; text matches id, prompt, cwd and branch).
export interface BoardFilter {
  state?: TaskState[];
  tier?: string;
  text?: string;
  limit?: number;
}

// One task as the board shows it: the view task_status gives (its events rendered the same way), the whole prompt,
// the worktree diff per file, and where the raw log is.
export interface BoardTask {
  /** task_status's structured content. */
  view: TaskView;
  prompt: string;
  principal: string;
  diff?: FileDiff[];
  diff_note?: string;
  /** Tasks on the same base whose branches conflict with this one's (filled in by the merge feature, when present). */
  conflicts_with?: string[];
}

// A change feed entry: the position to resume after, and the ids of the viewer's tasks that changed.
export type BoardChange = { seq: number; ids: string[] } | { seq: number; reset: true };

// The result of an action, in the words the tool it went through gave.
export interface BoardActionResult {
  ok: boolean;
  text: string;
  structured?: Record<string, unknown>;
}

// What starting a task from the board takes (the deep_task fields the form has).
export interface BoardStart {
  prompt: string;
  tier?: string;
  cwd?: string;
  isolation?: 'none' | 'worktree';
  continue_task_id?: string;
}

// Which of a task's sibling branches (same base) conflict with it. The merge feature supplies this; without it the
// board shows no conflict column.
export type ConflictFinder = (viewer: Viewer, taskId: string) => Promise<string[] | undefined>;

// Every task access of the board, behind one narrow seam: today an adapter over the registry and the tools; later
// over TaskService.watch/list/status/answer/kill/start. Each call applies the viewer's tenancy the way the tools do.
export interface BoardTasks {
  list(viewer: Viewer, filter: BoardFilter): Promise<BoardList>;
  get(viewer: Viewer, id: string): Promise<BoardTask>;
  /** Events (rendered like task_status's) after `cursor`, and the task's view as it stands. */
  follow(viewer: Viewer, id: string, cursor: number): Promise<BoardTask['view']>;
  /** The raw JSONL event log, when this server has it. */
  rawLog(viewer: Viewer, id: string): Promise<string>;
  /** Changes of the viewer's tasks after `since` (a reset when it is too old), until the signal aborts. */
  watch(viewer: Viewer, since: number | undefined, signal: AbortSignal): AsyncIterable<BoardChange>;
  answer(
    viewer: Viewer,
    id: string,
    requestId: string,
    decision: 'allow' | 'deny',
    message?: string,
  ): Promise<BoardActionResult>;
  kill(viewer: Viewer, id: string): Promise<BoardActionResult>;
  start(viewer: Viewer, input: BoardStart): Promise<BoardActionResult>;
  /** merge_task, when the server has that tool (undefined otherwise: the board shows no Merge button). */
  merge?(viewer: Viewer, id: string, strategy: 'merge' | 'squash'): Promise<BoardActionResult>;
}
