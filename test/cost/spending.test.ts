import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES } from '../../src/config/defaults.js';
import { CostModel } from '../../src/cost/cost-model.js';
import { DailyBudgets } from '../../src/cost/daily-budgets.js';
import { Spending } from '../../src/cost/spending.js';

const call = { tier: 'speed', model: 'sonnet', promptChars: 4000 };
const spending = (budgets: Record<string, number>) =>
  new Spending(new CostModel({ prices: DEFAULT_PRICES }), new DailyBudgets({ budgets }));
const ran = { ...call, turns: 2, inputTokens: 9000, outputTokens: 800, costUsd: 0.05, typical: true };

describe('Spending.reserve', () => {
  it(
    'with a budget: holds the estimate of a token call until it settles, and refuses what would pass the ' + 'budget',
    () => {
      const s = spending({ default: 1 });
      const hold = s.reserve('token:ci', call);
      expect(hold.estimateUsd).toBeGreaterThan(0);
      expect(s.budgets.reservedNow('token:ci')).toBe(hold.estimateUsd);
      hold.settle({ ...ran, principal: 'token:ci' });
      expect(s.budgets.reservedNow('token:ci')).toBe(0);
      expect(s.budgets.spentToday('token:ci')).toBe(0.05);
      s.budgets.spend('token:ci', 1);
      expect(() => s.reserve('token:ci', call)).toThrow(/budget: token "ci" has spent/);
      // The local user has no budget: admitted, nothing held.
      expect(s.reserve('local', call).estimateUsd).toBe(0);
      expect(s.budgets.reservedNow('local')).toBe(0);
    },
  );

  it('without budgets: admits every call and holds nothing, yet a settled call still teaches the cost model', () => {
    const s = spending({});
    const before = s.costs.estimate('speed', 'sonnet', 4000)!;
    const hold = s.reserve('token:ci', call);
    expect(hold.estimateUsd).toBe(0);
    expect(s.budgets.reservedNow('token:ci')).toBe(0);
    hold.settle({ ...ran, principal: 'token:ci' });
    expect(s.costs.estimate('speed', 'sonnet', 4000)!.basis).toBe('1 recent speed sonnet runs');
    expect(before.basis).toBe('defaults');
  });
});
