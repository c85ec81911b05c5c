import type { Admission } from './cluster/shared-limits.js';
import type { ServerStats } from './metrics/server-stats.js';
import type { QuickAnswer, QuickRequest } from './quick/answer.js';
import type { QuickDeps } from './quick/spares.js';
import type { Registry } from './tasks/registry.js';
import type { Viewer } from './tasks/types.js';
import type { CompareJobs } from './compare/compare-jobs.js';
import type { Notifier } from './notify/notifier.js';

// The facade tools see: everything a handler may use comes from this module. It stays light (types and small values):
// the engine itself is built by create-engine.ts, loaded after the server already answers.
export { ModelName, type Limits } from './config/schema.js';
export { ToolError } from './errors.js';
export type { QuickAnswer, QuickRequest } from './quick/answer.js';
// The shapes a tool returns or passes on, as zod schemas (output schemas, and the tests' parsers).
export { QuickAnswerSchema } from './shapes/quick-answer.js';
export { TaskViewSchema, type TaskView } from './shapes/task-view.js';
export { camelKeys } from './shapes/requests.js';
export type { TaskReply } from './tasks/view.js';
export { LOCAL_PRINCIPAL, TASK_STATES, type TaskState, type Viewer } from './tasks/types.js';

// What compare_tiers and compare_status report.
export type { CompareStatus } from './compare/compare-jobs.js';

// What server_stats reports.
export type { ServerStats };

// Everything a tool handler needs, shared by every MCP session of one server process.
export interface Engine extends QuickDeps {
  readonly serverId: string;
  readonly registry: Registry;
  readonly startedAt: number;
  /** Rate limits of the calls that start claude: this server's own, or the cluster's. */
  readonly rateLimiter: Admission;
  /** A/B comparisons of two tiers started over MCP (compare_tiers), run in the background. */
  readonly compare: CompareJobs;
  /** Webhook notifications of task events (notify in the config), if configured. */
  readonly notifier?: Notifier;
  /** The one-tap approval page (GET shows the request, POST decides): served without a login at /tap/; only with notify. */
  readonly tap?: (request: Request) => Promise<Response>;
  /** The speed tier: one synchronous answer. */
  quick(req: QuickRequest, signal: AbortSignal): Promise<QuickAnswer>;
  /** Keeps warm spares for the tiers that ask for them (after the server answers, so start-up never waits). */
  warmSpares(): void;
  /** What server_stats shows; the numbers /metrics also has are read from the metrics registry. */
  stats(viewer?: Viewer): Promise<ServerStats>;
  dispose(reason?: string): Promise<void>;
}
