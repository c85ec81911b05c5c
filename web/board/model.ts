import type { BoardRow, FileDiff, OpsPoint, OpsView } from '../../src/shapes/board.js';
import type { TaskView } from '../../src/shapes/task-view.js';

// The shapes the board's page reads are the server's own (type-only imports, erased by esbuild): the board API's rows,
// diffs and operator panel, and task_status's view.
export type { FileDiff, OpsPoint };
export type View = TaskView;
export type Ops = OpsView;

// A row of the list: the board API's row; the App reads the same fields from list_tasks, where some are absent.
export type Row = Pick<
  BoardRow,
  'task_id' | 'state' | 'tier' | 'created_at' | 'cost_usd' | 'prompt_preview' | 'progress'
> &
  Partial<BoardRow>;

// One task on the page: its view, and from the board API also the whole prompt and the branch's diff.
export interface Detail {
  view: View;
  prompt?: string;
  diff?: FileDiff[];
  diff_note?: string;
  conflicts_with?: string[];
}

// What a result of an action says.
export interface ActionResult {
  ok: boolean;
  text: string;
}

// Where the page's data comes from and its actions go: the board's HTTP API, or (MCP App) the host's tools/call.
export interface Source {
  readonly kind: 'http' | 'app';
  readonly canStart: boolean;
  readonly canMerge: boolean;
  task(id: string): Promise<Detail>;
  answer(id: string, requestId: string, decision: 'allow' | 'deny', message: string): Promise<ActionResult>;
  kill(id: string): Promise<ActionResult>;
  merge(id: string, strategy: 'merge' | 'squash'): Promise<ActionResult>;
  start?(input: {
    prompt: string;
    tier?: string;
    cwd?: string;
    isolation?: string;
    continue_task_id?: string;
  }): Promise<ActionResult & { task_id?: string }>;
  rawLogUrl?(id: string): string;
}
