import { cacheKey } from '../answer-cache.js';
import { resolveCwd } from '../cwd.js';
import { resolveRoute } from '../cost/pick-model.js';
import { getTier } from '../tiers.js';
import { ApiFailure, type QuickAnswer, type QuickRequest } from './answer.js';
import { runOnce } from './run-once.js';
import type { QuickDeps } from './spares.js';
import { LOCAL_PRINCIPAL } from '../tasks/types.js';

const DEFAULT_CACHE_TTL_S = 600;
const FALLBACK_STATUSES = new Set([429, 500, 502, 503, 529]);

// The speed tier: one synchronous run; `auto` routes by the prompt (and, with a budget, picks the model); a retryable
// API failure runs the tier's fallback tier.
export async function quickAnswer(deps: QuickDeps, asked: QuickRequest, signal: AbortSignal): Promise<QuickAnswer> {
  const { tierName, model, routed } = resolveRoute(asked, 'speed', deps.config, deps.spending.costs);
  const req = model ? { ...asked, model } : asked;
  const tier = getTier(deps.config, tierName);
  try {
    const answer = await cachedRun(deps, tierName, req, signal);
    return routed ? { ...answer, routed } : answer;
  } catch (err) {
    const status = err instanceof ApiFailure ? err.status : undefined;
    const retryable = status === null || (status !== undefined && FALLBACK_STATUSES.has(status));
    if (!tier.fallbackTier || !retryable || signal.aborted) throw err;
    deps.log.warn(
      { tier: tierName, fallback: tier.fallbackTier, status },
      'quick_answer: tier failed, running its fallback tier',
    );
    const answer = await cachedRun(deps, tier.fallbackTier, { ...req, model: undefined }, signal);
    return {
      ...answer,
      ...(routed ? { routed } : {}),
      fallback: { from_tier: tierName, reason: (err as Error).message },
    };
  }
}

// An identical earlier answer when the tier (or the call) caches, else one run whose answer is then cached.
async function cachedRun(
  deps: QuickDeps,
  tierName: string,
  req: QuickRequest,
  signal: AbortSignal,
): Promise<QuickAnswer> {
  const tier = getTier(deps.config, tierName);
  const cacheTtlS = req.cache ? tier.cacheTtlS || DEFAULT_CACHE_TTL_S : tier.cacheTtlS;
  if (cacheTtlS <= 0 || req.outputSchema || req.images) return runOnce(deps, tierName, req, signal);
  const cwd = resolveCwd(req.cwd, deps.config.allowedRoots);
  const key = cacheKey({
    principal: req.principal ?? LOCAL_PRINCIPAL,
    tier: tierName,
    model: req.model ?? tier.model,
    cwd,
    systemPrompt: req.systemPrompt,
    prompt: req.prompt,
  });
  const hit = deps.cache.get(key);
  if (hit) {
    deps.log.info({ tier: tierName, ageMs: hit.ageMs }, 'quick_answer: cache hit');
    return { ...hit.value, cached: { age_s: Math.round(hit.ageMs / 100) / 10 } };
  }
  const answer = await runOnce(deps, tierName, req, signal);
  deps.cache.set(key, answer, cacheTtlS * 1000);
  return answer;
}
