import type { CostModel } from './cost-model.js';
import { formatUsd } from './prices.js';

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
