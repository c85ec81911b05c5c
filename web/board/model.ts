// The shapes the board's page reads (the server's BoardRow, BoardTask and task_status's view; the App reads the same
// fields from list_tasks and task_status, some absent).
export interface Row {
  task_id: string;
  state: string;
  tier: string;
  model?: string;
  created_at: string;
  elapsed_s?: number;
  turns?: number;
  cost_usd: number;
  last_tool?: string;
  cwd?: string;
  branch?: string;
  prompt_preview: string;
  progress: string;
}

export interface InputRequest {
  request_id: string;
  tool: string;
  input: unknown;
  reason?: string;
  expires_at: string;
}

export interface View {
  task_id: string;
  state: string;
  final: boolean;
  tier: string;
  model: string;
  cwd: string;
  prompt_preview: string;
  progress: string;
  turns: number;
  cost_usd: number;
  tokens: { input: number; output: number };
  events: string[];
  cursor: number;
  last_text: string;
  end?: { reason: string; message: string; by?: string };
  result?: { text: string; subtype: string; is_error: boolean };
  output?: unknown;
  input_request?: InputRequest;
  worktree?: { branch: string | null; base_commit: string; head_commit?: string; diffstat?: string };
  writing?: { chars: number; text_tail: string };
  permission_denials: Array<{ tool: string; input: string }>;
}

export interface FileDiff {
  path: string;
  added: number;
  removed: number;
  patch: string;
  binary: boolean;
}

export interface Detail {
  view: View;
  prompt?: string;
  diff?: FileDiff[];
  diff_note?: string;
  conflicts_with?: string[];
}

export interface OpsPoint {
  t: number;
  quick_s: number | null;
  task_s: number | null;
  cost_usd: number;
}

export interface Ops {
  scope: 'server' | 'yours';
  running: number;
  queued: number;
  share: { running: number; queue: number } | null;
  spares_ready: number;
  breakers: Array<{ key: string; state: string }>;
  budgets: Array<{ principal: string; spent_usd: number; limit_usd: number; resets_at: string }>;
  rate: { client: number | null; global: number | null } | null;
  series: OpsPoint[];
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
