import type { Config } from '../config/schema.js';
import { resolveTier } from '../routing.js';
import type { CostModel } from './cost-model.js';
import { formatUsd, modelLadder } from './prices.js';

// A model chosen for a budget, and the words that explain it.
export interface Pick {
  model: string;
  why: string;
}

// The strongest model of the ladder whose estimate fits the budget, else the cheapest (the budget still caps the run).
export function pickModel(
  costs: CostModel,
  tier: string,
  ladder: string[],
  promptChars: number,
  budgetUsd: number,
): Pick {
  const over: string[] = [];
  for (const model of ladder) {
    const estimate = costs.estimate(tier, model, promptChars);
    if (!estimate) continue;
    if (estimate.usd <= budgetUsd) {
      const fits = `${model} estimate ${formatUsd(estimate.usd)} <= budget ${formatUsd(budgetUsd)}`;
      return { model, why: over.length ? `${over.join(', ')}; ${fits}` : fits };
    }
    over.push(`${model} estimate ${formatUsd(estimate.usd)} > budget ${formatUsd(budgetUsd)}`);
  }
  const cheapest = ladder[ladder.length - 1]!;
  return {
    model: cheapest,
    why: `${over.join(', ') || 'no priced model'}; the cheapest, ${cheapest}, runs capped at the budget`,
  };
}

// What a request asks for, as far as routing goes.
export interface RouteRequest {
  tier?: string;
  prompt: string;
  model?: string;
  maxBudgetUsd?: number;
}

// resolveTier, plus for tier "auto" with max_budget_usd and no model: the strongest model whose estimated cost fits
// (`routed: comprehensive on sonnet (opus estimate $0.42 > budget $0.25, ...): mentions running tests or commands`).
export function resolveRoute(
  req: RouteRequest,
  fallback: string,
  config: Config,
  costs: CostModel,
): { tierName: string; model?: string; routed?: string } {
  const resolved = resolveTier(req.tier, fallback, req.prompt);
  if (req.tier !== 'auto' || req.maxBudgetUsd === undefined || req.model !== undefined) return resolved;
  // A tier this config lacks is refused where the request is resolved (tier-run/resolve.ts), with the known names.
  const tier = Object.hasOwn(config.tiers, resolved.tierName) ? config.tiers[resolved.tierName] : undefined;
  if (!tier) return resolved;
  const pick = pickModel(
    costs,
    resolved.tierName,
    modelLadder(config.prices, tier.model),
    req.prompt.length,
    req.maxBudgetUsd,
  );
  const reason = resolved.routed?.replace(/^routed: \S+ \((.*)\)$/, '$1') ?? '';
  return {
    tierName: resolved.tierName,
    model: pick.model,
    routed: `routed: ${resolved.tierName} on ${pick.model} (${pick.why}): ${reason}`,
  };
}
