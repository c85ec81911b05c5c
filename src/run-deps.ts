import type { AuditLog } from './audit.js';
import type { BinaryLookup } from './claude/find-binary.js';
import type { ProcessTable } from './claude/spawn.js';
import type { Config } from './config/schema.js';
import type { Spending } from './cost/spending.js';
import type { CircuitBreakers } from './guards/breaker.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics/metrics.js';
import type { SpecCache } from './tier-run/spec-cache.js';

// What it takes to start a claude run, shared by the quick path, the task runner and the spares (the run itself:
// tier-run/tier-run.ts).
export interface RunDeps {
  readonly config: Config;
  readonly log: Logger;
  /** The server's environment, the base of claude's (less the server's own secrets). */
  readonly env: NodeJS.ProcessEnv;
  /** How deep in a chain of claude-tiers servers this one runs (0 = started by a person or a plain client). */
  readonly depth: number;
  readonly procs: ProcessTable;
  readonly breakers: CircuitBreakers;
  readonly audit: AuditLog;
  readonly metrics: Metrics;
  /** The cost model of tier "auto" with a budget, and the HTTP tokens' daily budgets. */
  readonly spending: Spending;
  /** The claude binary to run now (a ToolError naming every place looked at when none is found); forget: gone. */
  readonly claudeBinary: BinaryLookup;
  /** Where the user's config file and folder may be (configPaths, at start-up); each run hides those that exist. */
  readonly configCandidates: readonly string[];
  /** The specs of runs with their tier's shared files, worked out once per (tier, cwd, model, flags): sharedSpec. */
  readonly sharedSpecs: SpecCache;
}
