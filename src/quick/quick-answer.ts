import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheKey } from '../answer-cache.js';
import type { RunOutcome } from '../claude/run.js';
import type { BudgetHold } from '../cost/spending.js';
import { ToolError } from '../errors.js';
import type { Verdict } from '../guards/breaker.js';
import { Leases } from '../leases.js';
import { quickFinished } from '../metrics/quick-outcome.js';
import { LOCAL_PRINCIPAL } from '../tasks/types.js';
import { onTier, resolveRoute, resolveRun, type ResolvedRun } from '../tier-run/resolve.js';
import { resultText, runTier } from '../tier-run/tier-run.js';
import { ApiFailure, resultError, toAnswer, type QuickAnswer, type QuickRequest } from './answer.js';
import type { QuickDeps } from './spares.js';

const DEFAULT_CACHE_TTL_S = 600;
const FALLBACK_STATUSES = new Set([429, 500, 502, 503, 529]);
const CLOSED = { reason: 'closed', message: 'the answer was delivered' };
const CANCELLED = { reason: 'cancelled', message: 'cancelled by the client; claude was stopped.' };

// The speed tier of a server: one synchronous run; `auto` routes by the prompt (and, with a budget, picks the model);
// a retryable API failure runs the tier's fallback tier. The request is resolved here, once: tier, real cwd, model,
// content.
export class QuickTier {
  constructor(private readonly deps: QuickDeps) {}

  // One quick_answer call (the engine's `quick`).
  answer = async (asked: QuickRequest, signal: AbortSignal): Promise<QuickAnswer> => {
    const { deps } = this;
    const { tierName, model, routed } = resolveRoute(asked, 'speed', deps.config, deps.spending.costs);
    const req = model ? { ...asked, model } : asked;
    const resolved = await resolveRun(deps.config, {
      tierName,
      cwd: req.cwd,
      model: req.model,
      prompt: req.prompt,
      images: req.images,
    });
    const fallbackTier = resolved.tier.fallbackTier;
    try {
      const answer = await cachedRun(deps, resolved, req, signal);
      return routed ? { ...answer, routed } : answer;
    } catch (err) {
      const status = err instanceof ApiFailure ? err.status : undefined;
      const retryable = status === null || (status !== undefined && FALLBACK_STATUSES.has(status));
      if (!fallbackTier || !retryable || signal.aborted) throw err;
      deps.log.warn(
        { tier: tierName, fallback: fallbackTier, status },
        'quick_answer: tier failed, running its fallback tier',
      );
      const answer = await cachedRun(
        deps,
        onTier(deps.config, resolved, fallbackTier),
        { ...req, model: undefined },
        signal,
      );
      return {
        ...answer,
        ...(routed ? { routed } : {}),
        fallback: { from_tier: tierName, reason: (err as Error).message },
      };
    }
  };
}

// An identical earlier answer when the tier (or the call) caches, else one run whose answer is then cached.
async function cachedRun(
  deps: QuickDeps,
  r: ResolvedRun,
  req: QuickRequest,
  signal: AbortSignal,
): Promise<QuickAnswer> {
  const cacheTtlS = req.cache ? r.tier.cacheTtlS || DEFAULT_CACHE_TTL_S : r.tier.cacheTtlS;
  if (cacheTtlS <= 0 || req.outputSchema || req.images) return runOnce(deps, r, req, signal);
  const key = cacheKey({
    principal: req.principal ?? LOCAL_PRINCIPAL,
    tier: r.tierName,
    model: r.model,
    cwd: r.cwd,
    systemPrompt: req.systemPrompt,
    prompt: req.prompt,
  });
  const hit = deps.cache.get(key);
  if (hit) {
    deps.log.info({ tier: r.tierName, ageMs: hit.ageMs }, 'quick_answer: cache hit');
    return { ...hit.value, cached: { age_s: Math.round(hit.ageMs / 100) / 10 } };
  }
  const answer = await runOnce(deps, r, req, signal);
  deps.cache.set(key, answer, cacheTtlS * 1000);
  return answer;
}

// One synchronous run of a resolved request: a warm spare when one fits, else a cold claude; every lease released in
// one finally.
async function runOnce(deps: QuickDeps, r: ResolvedRun, req: QuickRequest, signal: AbortSignal): Promise<QuickAnswer> {
  const { tierName, tier, cwd, model } = r;
  if (tier.sandbox?.enabled || tier.isolation === 'worktree')
    throw new ToolError(`tier: ${tierName} runs sandboxed or in a worktree; use deep_task for it`);
  const started = Date.now();
  const leases = new Leases((name, err) =>
    deps.log.warn({ lease: name, err: (err as Error)?.message }, 'release failed'),
  );
  let verdict: Verdict = { kind: 'neutral' };
  let outcome: RunOutcome | undefined;
  let warm = false;
  let answered = false;
  let hold: BudgetHold | undefined;
  try {
    // Its principal's budget holds back this call's estimate until its real cost is counted (in the finally).
    const call = { tier: tierName, model, promptChars: req.prompt.length, maxBudgetUsd: req.maxBudgetUsd };
    hold = deps.spending.reserve(req.principal ?? LOCAL_PRINCIPAL, call);
    const ticket = deps.breakers.admit(`${tierName}:${model}`);
    leases.add('breaker ticket', () => ticket.report(verdict));
    // The tier's own files (its system prompt, MCP config) are shared by content with the spares of its key; a
    // request's system prompt makes files of this run's own, which a spare never has.
    const own = req.systemPrompt
      ? { dir: join(tmpdir(), `claude-tiers-run-${randomUUID()}`), systemPrompt: req.systemPrompt }
      : undefined;
    const shape = { workdir: cwd, own, flags: { maxBudgetUsd: req.maxBudgetUsd } };
    const timeoutS = req.timeoutS ?? tier.timeoutS;
    const turn = {
      kind: 'answer' as const,
      timeoutS,
      idleS: Math.min(tier.idleTimeoutS, timeoutS),
      jsonSchema: req.outputSchema,
      stopOn: { signal, reason: CANCELLED },
    };
    const spare = own || req.outputSchema ? undefined : { refill: !(req.maxBudgetUsd || req.model) };
    // The answer never waits for claude to exit: the run closes on its own time.
    const end = await runTier(deps, r, shape, turn, { spare, close: (run) => void run.close(CLOSED) }, leases);
    // Without a beforeStart hook a run always starts.
    if (!end.run) throw new ToolError('claude was not started');
    ({ warm, outcome, verdict } = end);
    if (outcome.kind === 'stopped') throw new ToolError(outcome.stop.message);
    if (outcome.kind === 'exited') {
      const why =
        outcome.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500) ||
        outcome.preview.slice(0, 300) ||
        'no output';
      throw new ToolError(
        `claude exited (code ${outcome.exit.exitCode ?? outcome.exit.signal}) without an answer: ${why}`,
      );
    }
    const res = outcome.result;
    if (res.is_error) throw resultError(res);
    if (req.outputSchema && res.structured_output === undefined)
      throw new ToolError(
        `claude ended without structured output (${res.num_turns} turns; it never called its ` +
          `StructuredOutput tool); ask again or loosen output_schema. Its text: ${resultText(res).slice(0, 300)}`,
      );
    const answer = toAnswer(tierName, model, res, Date.now() - started, tier.fallbackModel);
    answer.warm = warm;
    answered = true;
    return answer;
  } finally {
    await leases.releaseAll();
    const ms = Date.now() - started;
    const finished = quickFinished(tierName, model, outcome, answered, ms);
    deps.metrics.quickFinished(finished);
    const turns = outcome?.kind === 'result' ? Number(outcome.result.num_turns) || 0 : 0;
    hold?.settle({
      tier: tierName,
      model,
      promptChars: req.prompt.length,
      turns,
      inputTokens: finished.inputTokens,
      outputTokens: finished.outputTokens,
      costUsd: finished.costUsd,
      principal: req.principal ?? LOCAL_PRINCIPAL,
      typical: answered,
    });
    deps.log.info({ tier: tierName, model, outcome: outcome?.kind ?? 'refused', ms, warm }, 'quick_answer finished');
    deps.audit.write('quick_answer', {
      tier: tierName,
      model,
      cwd,
      prompt: deps.audit.prompt(req.prompt),
      outcome: outcome?.kind ?? 'refused',
      ms,
      warm,
    });
  }
}
