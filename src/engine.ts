import { randomUUID } from 'node:crypto';
import type { Config } from './config/schema.js';
import { ClaudeNotFoundError, findClaude, type ClaudeBinary } from './claude/find-binary.js';
import { ToolError } from './errors.js';
import type { Logger } from './log.js';
import { Registry } from './tasks/registry.js';
import { AnswerCache } from './answer-cache.js';
import type { QuickAnswer } from './quick.js';
import { SparePool } from './spares/spare-pool.js';
import { AuditLog } from './audit.js';
import { CircuitBreakers } from './guards/breaker.js';
import { RateLimiter } from './guards/rate-limit.js';

// Everything a tool handler needs, shared by every MCP session of one server process.
export interface Engine {
  readonly config: Config;
  readonly log: Logger;
  readonly serverId: string;
  /** How deep in a chain of claude-tiers servers this one runs (0 = started by a person or a plain client). */
  readonly depth: number;
  readonly registry: Registry;
  readonly spares: SparePool;
  readonly cache: AnswerCache<QuickAnswer>;
  readonly startedAt: number;
  readonly breakers: CircuitBreakers;
  readonly rateLimiter: RateLimiter;
  readonly audit: AuditLog;
  /** The claude binary to run now; a ToolError naming every place looked at when none is found. */
  claudeBinary(): ClaudeBinary;
  dispose(reason?: string): Promise<void>;
}

// Builds the engine: config, logger, claude lookup and the task registry, with one dispose for all of it.
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
  const audit = new AuditLog(config.stateDir, { maxBytes: config.limits.auditMaxBytes, keepPrompts: config.limits.auditPrompts });
  const breakers = new CircuitBreakers({ threshold: config.limits.breakerThreshold, cooldownMs: config.limits.breakerCooldownS * 1000 });
  const rateLimiter = new RateLimiter({ perMinute: config.limits.ratePerMinute, burst: config.limits.rateBurst, globalPerMinute: config.limits.globalRatePerMinute });
  const registry = await Registry.open({ config, log, serverId, depth, claudeBinary, audit, breakers });
  const spares = new SparePool({ log, ttlMs: config.limits.spareTtlS * 1000, graceMs: config.limits.killGraceMs });
  const cache = new AnswerCache<QuickAnswer>({ maxEntries: config.limits.cacheMaxEntries, maxBytes: config.limits.cacheMaxBytes });
  let disposed: Promise<void> | undefined;
  const engine: Engine = {
    config,
    log,
    serverId,
    depth,
    registry,
    spares,
    cache,
    startedAt: Date.now(),
    breakers,
    rateLimiter,
    audit,
    claudeBinary,
    dispose(reason = 'server shutdown') {
      disposed ??= Promise.allSettled([registry.shutdown(reason), spares.dispose()]).then(() => undefined);
      return disposed;
    },
  };
  return engine;
}
