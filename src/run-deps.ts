import type { AuditLog } from './audit.js';
import { buildClaudeArgs, buildClaudeEnv, type RunRequest } from './claude/args.js';
import type { ClaudeBinary } from './claude/find-binary.js';
import type { RunSpec, StopTimings } from './claude/run.js';
import type { ProcessTable } from './claude/spawn.js';
import type { Config, Limits, TierConfig } from './config/schema.js';
import type { Spending } from './cost/spending.js';
import type { CircuitBreakers } from './guards/breaker.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics/metrics.js';

// What it takes to start a claude run, shared by the quick path, the task runner and the spares.
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
  /** The claude binary to run now; a ToolError naming every place looked at when none is found. */
  claudeBinary(): ClaudeBinary;
}

// The spec of one claude run of a tier: binary, argv (no prompt, no long text), environment, cwd.
export function runSpec(deps: RunDeps, tier: TierConfig, cwd: string, req: RunRequest): RunSpec {
  return {
    bin: deps.claudeBinary().path,
    args: buildClaudeArgs(tier, req),
    cwd,
    env: buildClaudeEnv(tier, deps.env, deps.depth, deps.config.secretEnv),
    maxLineBytes: deps.config.limits.maxStdoutLineBytes,
  };
}

// How long a stop may take, from config; a shutdown uses its own shorter budget.
export function stopTimings(limits: Limits, shutdown = false): StopTimings {
  if (!shutdown) return { interruptWaitMs: limits.interruptWaitMs, killGraceMs: limits.killGraceMs };
  return { interruptWaitMs: Math.round(limits.shutdownMs / 5), killGraceMs: Math.round(limits.shutdownMs / 3) };
}
