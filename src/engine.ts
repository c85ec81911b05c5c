import { randomUUID } from 'node:crypto';
import { AnswerCache } from './answer-cache.js';
import { AuditLog } from './audit.js';
import { ClaudeNotFoundError, findClaude, type ClaudeBinary } from './claude/find-binary.js';
import { describeContainment, probeContainment } from './claude/contain.js';
import { ProcessTable } from './claude/spawn.js';
import { CompareJobs } from './compare/compare-jobs.js';
import type { Config } from './config/schema.js';
import { ToolError } from './errors.js';
import { CircuitBreakers } from './guards/breaker.js';
import { RateLimiter } from './guards/rate-limit.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics/metrics.js';
import { serverStats, type ServerStats } from './metrics/server-stats.js';
import type { QuickAnswer, QuickRequest } from './quick/answer.js';
import { quickAnswer } from './quick/quick-answer.js';
import { warmDefaultSpares, type QuickDeps } from './quick/spares.js';
import { stopTimings } from './run-deps.js';
import { SparePool } from './spares/spare-pool.js';
import { Registry } from './tasks/registry.js';

// The facade tools see: everything a handler may use comes from this module.
export { ModelName, type Limits } from './config/schema.js';
export { ToolError } from './errors.js';
export type { QuickAnswer, QuickRequest } from './quick/answer.js';
export type { TaskReply } from './tasks/view.js';
export { LOCAL_PRINCIPAL, TASK_STATES, type TaskState, type Viewer } from './tasks/types.js';

// What server_stats reports.
export type { ServerStats };

// What compare_tiers and compare_status report.
export type { CompareStatus } from './compare/compare-jobs.js';

// Everything a tool handler needs, shared by every MCP session of one server process.
export interface Engine extends QuickDeps {
  readonly serverId: string;
  readonly registry: Registry;
  readonly startedAt: number;
  readonly rateLimiter: RateLimiter;
  /** A/B comparisons of two tiers started over MCP (compare_tiers), run in the background. */
  readonly compare: CompareJobs;
  /** The speed tier: one synchronous answer. */
  quick(req: QuickRequest, signal: AbortSignal): Promise<QuickAnswer>;
  /** Keeps warm spares for the tiers that ask for them (after the server answers, so start-up never waits). */
  warmSpares(): void;
  /** What server_stats shows; the numbers /metrics also has are read from the metrics registry. */
  stats(): Promise<ServerStats>;
  dispose(reason?: string): Promise<void>;
}

// Builds the engine: config, logger, claude lookup, spares, guards and the task registry, with one dispose for all of it.
export async function createEngine(config: Config, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  const depth = Number.parseInt(env.CLAUDE_TIERS_DEPTH ?? '0', 10) || 0;
  const serverId = randomUUID();
  const claudeBinary = (): ClaudeBinary => {
    if (depth >= config.maxDepth) {
      throw new ToolError(`refused: this claude-tiers server runs at depth ${depth} (inside a claude started by claude-tiers) and maxDepth is ${config.maxDepth}; recursion is not allowed`);
    }
    try {
      return findClaude({ env, configured: config.claudeBin });
    } catch (err) {
      if (err instanceof ClaudeNotFoundError) throw new ToolError(err.message);
      throw err;
    }
  };
  const procs = new ProcessTable(probeContainment({ env }));
  log.info({ containment: describeContainment(procs.containment) }, 'task containment');
  const audit = new AuditLog(config.stateDir, { maxBytes: config.limits.auditMaxBytes, keepPrompts: config.limits.auditPrompts });
  const metrics = new Metrics();
  const breakers = new CircuitBreakers({ threshold: config.limits.breakerThreshold, cooldownMs: config.limits.breakerCooldownS * 1000, onTransition: (key, to) => metrics.breakerTransition(key, to) });
  const rateLimiter = new RateLimiter({ perMinute: config.limits.ratePerMinute, burst: config.limits.rateBurst, globalPerMinute: config.limits.globalRatePerMinute });
  const runDeps = { config, log, env, depth, procs, breakers, audit, metrics, claudeBinary };
  const registry = await Registry.open({ ...runDeps, serverId });
  const spares = new SparePool({ log, ttlMs: config.limits.spareTtlS * 1000, table: procs, timings: stopTimings(config.limits), shutdownTimings: stopTimings(config.limits, true) });
  const cache = new AnswerCache<QuickAnswer>({ maxEntries: config.limits.cacheMaxEntries, maxBytes: config.limits.cacheMaxBytes });
  const quickDeps: QuickDeps = { ...runDeps, spares, cache };
  const compare = new CompareJobs({ registry, tierNames: Object.keys(config.tiers), stateDir: config.stateDir, log });
  const startedAt = Date.now();
  metrics.watch({ tasks: () => registry.counts, processPids: () => procs.pids(), sparesReady: () => spares.readyByTier(), circuits: () => breakers.snapshot() });
  let disposed: Promise<void> | undefined;
  return {
    ...quickDeps,
    serverId,
    registry,
    startedAt,
    rateLimiter,
    compare,
    quick: (req, signal) => quickAnswer(quickDeps, req, signal),
    warmSpares: () => warmDefaultSpares(quickDeps),
    stats: () => serverStats({ metrics, startedAt, peakRunning: registry.counts.peak_running, spares, cache: cache.stats, circuits: breakers.snapshot() }),
    dispose(reason = 'server shutdown') {
      disposed ??= Promise.allSettled([compare.dispose(), registry.shutdown(reason), spares.dispose()]).then(() => undefined);
      return disposed;
    },
  };
}
