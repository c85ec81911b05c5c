import { buildClaudeArgs, buildClaudeEnv } from './claude/args.js';
import type { ResultEvent } from './claude/events.js';
import { runClaudeJson } from './claude/run-json.js';
import type { Engine } from './engine.js';
import { describeApiError, ToolError } from './errors.js';
import { resolveCwd } from './cwd.js';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTier } from './routing.js';
import { getTier, planRun, type RunPlan } from './tiers.js';
import type { TierConfig } from './config/schema.js';
import { runOnSpare } from './claude/run-on-spare.js';
import { cacheKey } from './answer-cache.js';
import { UPSTREAM_FAILURES } from './guards/breaker.js';
import type { SpareSpec } from './spares/spare-pool.js';

export interface QuickRequest {
  prompt: string;
  model?: string;
  cwd?: string;
  timeoutS?: number;
  systemPrompt?: string;
  tier?: string;
  cache?: boolean;
}

// What a quick answer returns to the caller (the tool's structuredContent).
export interface QuickAnswer {
  answer: string;
  tier: string;
  model: string;
  session_id: string;
  duration_ms: number;
  cost_usd: number;
  usage: { input_tokens: number; output_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number };
  num_turns: number;
  /** `routed: comprehensive (mentions running tests)` when tier was "auto". */
  routed?: string;
  /** Set when the tier's fallback answered instead: what failed and which tier answered. */
  fallback?: { from_tier: string; reason: string };
  /** Set when claude switched to the tier's fallback model during the run. */
  fallback_model?: string;
  /** Set on a cache hit: how old the cached answer is. */
  cached?: { age_s: number };
  /** True when a warm spare (pre-spawned claude) answered. */
  warm: boolean;
}

const DEFAULT_CACHE_TTL_S = 600;

// The spec of a warm spare that could serve this request; equal specs (same key) mean a spare fits.
export function spareSpec(engine: Engine, bin: string, tier: TierConfig, plan: RunPlan, model: string, cwd: string, systemPrompt?: string): SpareSpec {
  const args = buildClaudeArgs({ ...tier, outputFormat: 'stream-json' }, { model, appendSystemPrompt: systemPrompt, ...plan });
  return { key: JSON.stringify([bin, args, cwd]), bin, args, cwd, env: buildClaudeEnv(tier, process.env, engine.depth), maxLineBytes: engine.config.limits.maxStdoutLineBytes };
}

// Keeps the default request of every tier with warmSpares > 0 (and no MCP servers) served by warm spares.
export async function warmDefaultSpares(engine: Engine): Promise<void> {
  for (const [name, tier] of Object.entries(engine.config.tiers)) {
    if (tier.warmSpares <= 0 || tier.mcpConfig) continue;
    try {
      const bin = engine.claudeBinary();
      const cwd = resolveCwd(undefined, engine.config.allowedRoots);
      const plan = await planRun(name, tier, cwd, engine.config.stateDir, '');
      engine.spares.keepWarm(spareSpec(engine, bin.path, tier, plan, tier.model, cwd), tier.warmSpares);
    } catch (err) {
      engine.log.warn({ tier: name, err: (err as Error).message }, 'cannot keep warm spares for this tier');
    }
  }
}

const FALLBACK_STATUSES = new Set([429, 500, 502, 503, 529]);

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function toAnswer(tierName: string, requestedModel: string, r: ResultEvent, durationMs: number): QuickAnswer {
  const usage = (r.usage ?? {}) as Record<string, unknown>;
  const models = Object.keys((r.modelUsage ?? {}) as Record<string, unknown>);
  return {
    answer: typeof r.result === 'string' ? r.result : '',
    tier: tierName,
    model: models[0] ?? requestedModel,
    session_id: typeof r.session_id === 'string' ? r.session_id : '',
    duration_ms: num(r.duration_ms) || durationMs,
    cost_usd: num(r.total_cost_usd),
    usage: {
      input_tokens: num(usage.input_tokens),
      output_tokens: num(usage.output_tokens),
      cache_read_input_tokens: num(usage.cache_read_input_tokens),
      cache_creation_input_tokens: num(usage.cache_creation_input_tokens),
    },
    num_turns: num(r.num_turns),
    warm: false,
  };
}

// The speed tier: one synchronous claude -p run; `auto` routes by the prompt; a retryable API failure runs the tier's fallback tier.
export async function quickAnswer(engine: Engine, req: QuickRequest, signal: AbortSignal): Promise<QuickAnswer> {
  const { tierName, routed } = resolveTier(req.tier, 'speed', req.prompt);
  const tier = getTier(engine.config, tierName);
  try {
    const answer = await runTierOnce(engine, tierName, req, signal);
    return routed ? { ...answer, routed } : answer;
  } catch (err) {
    const status = err instanceof ApiFailure ? err.status : undefined;
    const retryable = status === null || (status !== undefined && FALLBACK_STATUSES.has(status));
    if (!tier.fallbackTier || !retryable || signal.aborted) throw err;
    engine.log.warn({ tier: tierName, fallback: tier.fallbackTier, status }, 'quick_answer: tier failed, running its fallback tier');
    const answer = await runTierOnce(engine, tier.fallbackTier, { ...req, model: undefined }, signal);
    return { ...answer, ...(routed ? { routed } : {}), fallback: { from_tier: tierName, reason: (err as Error).message } };
  }
}

// An API failure after claude's own retries; the status decides whether a fallback tier may help.
class ApiFailure extends ToolError {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

async function runTierOnce(engine: Engine, tierName: string, req: QuickRequest, signal: AbortSignal): Promise<QuickAnswer> {
  const tier = getTier(engine.config, tierName);
  const cwd = resolveCwd(req.cwd, engine.config.allowedRoots);
  const model = req.model ?? tier.model;
  const cacheTtlS = req.cache ? tier.cacheTtlS || DEFAULT_CACHE_TTL_S : tier.cacheTtlS;
  const key = cacheTtlS > 0 ? cacheKey({ tier: tierName, model, cwd, systemPrompt: req.systemPrompt, prompt: req.prompt }) : undefined;
  if (key) {
    const hit = engine.cache.get(key);
    if (hit) {
      engine.log.info({ tier: tierName, ageMs: hit.ageMs }, 'quick_answer: cache hit');
      return { ...hit.value, cached: { age_s: Math.round(hit.ageMs / 100) / 10 } };
    }
  }
  const bin = engine.claudeBinary();
  const breakerKey = `${tierName}:${model}`;
  engine.breakers.admit(breakerKey);
  const mcpOut = join(tmpdir(), `claude-tiers-mcp-${randomUUID()}.json`);
  const plan = await planRun(tierName, tier, cwd, engine.config.stateDir, mcpOut);
  const args = buildClaudeArgs({ ...tier, outputFormat: 'json' }, { model, appendSystemPrompt: req.systemPrompt, ...plan });
  const timeoutS = req.timeoutS ?? tier.timeoutS;
  engine.log.debug({ tier: tierName, model, cwd, args }, 'quick_answer: spawning claude');
  const spare = tier.warmSpares > 0 && !plan.mcpConfigPath ? engine.spares.take(spareSpec(engine, bin.path, tier, plan, model, cwd, req.systemPrompt).key) : undefined;
  const common = { timeoutMs: timeoutS * 1000, signal, killGraceMs: engine.config.limits.killGraceMs };
  const outcome = spare ? await runOnSpare(spare, { prompt: req.prompt, ...common }) : await runClaudeJson({
    bin: bin.path,
    args,
    cwd,
    env: buildClaudeEnv(tier, process.env, engine.depth),
    prompt: req.prompt,
    timeoutMs: timeoutS * 1000,
    signal,
    killGraceMs: engine.config.limits.killGraceMs,
    maxLineBytes: engine.config.limits.maxStdoutLineBytes,
  }).finally(() => (plan.mcpConfigPath ? rm(mcpOut, { force: true }) : undefined));
  engine.log.info({ tier: tierName, model, outcome: outcome.kind, ms: outcome.durationMs, warm: !!spare }, 'quick_answer finished');
  engine.audit.write('quick_answer', { tier: tierName, model, cwd, prompt: engine.audit.prompt(req.prompt), outcome: outcome.kind, ms: outcome.durationMs, warm: !!spare });
  const apiStatus = outcome.kind === 'result' && outcome.result.is_error ? (outcome.result.api_error_status ?? (/unable to connect/i.test(String(outcome.result.result)) ? null : undefined)) : undefined;
  if (outcome.kind === 'result' && !outcome.result.is_error) engine.breakers.success(breakerKey);
  else if (apiStatus !== undefined && UPSTREAM_FAILURES.has(apiStatus)) engine.breakers.failure(breakerKey, describeApiError(apiStatus, String(outcome.kind === 'result' ? (outcome.result.result ?? '') : '')));
  else engine.breakers.neutral(breakerKey);
  switch (outcome.kind) {
    case 'timeout':
      throw new ToolError(`timed out after ${timeoutS} s (timeout_s); claude was stopped. Raise timeout_s, or use deep_task for long work.`);
    case 'cancelled':
      throw new ToolError('cancelled by the client; claude was stopped.');
    case 'no-result': {
      const why = outcome.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500) || outcome.stdoutPreview.slice(0, 300) || 'no output';
      throw new ToolError(`claude exited (code ${outcome.exit.exitCode ?? outcome.exit.signal}) without an answer: ${why}`);
    }
    case 'result': {
      const r = outcome.result;
      if (r.is_error) {
        const status = r.api_error_status as number | null | undefined;
        const text = typeof r.result === 'string' ? r.result : Array.isArray(r.errors) ? r.errors.join('; ') : String(r.subtype);
        if (status !== undefined && status !== null) throw new ApiFailure(describeApiError(status, text), status);
        if (r.subtype === 'error_max_turns') throw new ToolError(`stopped at the turn limit (${r.num_turns} turns); ask a narrower question or use deep_task.`);
        if (r.subtype === 'error_max_budget_usd') throw new ToolError(`stopped at the budget limit ($${num(r.total_cost_usd).toFixed(4)} spent).`);
        throw /unable to connect|ECONNREFUSED|fetch failed/i.test(text) ? new ApiFailure(describeApiError(null, text), null) : new ToolError(describeApiError(null, text));
      }
      const answer = toAnswer(tierName, model, r, outcome.durationMs);
      answer.warm = !!spare;
      const used = Object.keys((r.modelUsage ?? {}) as Record<string, unknown>);
      if (tier.fallbackModel && used.some((m) => m.includes(tier.fallbackModel!)) && !used.some((m) => m.includes(model))) answer.fallback_model = tier.fallbackModel;
      if (key) engine.cache.set(key, answer, cacheTtlS * 1000);
      return answer;
    }
  }
}
