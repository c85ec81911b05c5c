import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import { CostModel } from '../../src/cost/cost-model.js';
import { pickModel } from '../../src/cost/pick-model.js';
import { resolveRoute } from '../../src/tier-run/resolve.js';

const config = defaultConfig({}, '/tmp');
const fresh = () => new CostModel({ prices: config.prices });
const ladder = ['opus', 'sonnet', 'haiku'];

describe('pickModel', () => {
  it('takes the strongest model whose estimate fits the budget and says what did not fit', () => {
    // Defaults: opus ~$0.77, sonnet ~$0.15, haiku ~$0.05 for a short comprehensive prompt.
    expect(pickModel(fresh(), 'comprehensive', ladder, 100, 5)).toEqual({
      model: 'opus',
      why: 'opus estimate $0.77 <= budget $5.00',
    });
    const mid = pickModel(fresh(), 'comprehensive', ladder, 100, 0.25);
    expect(mid.model).toBe('sonnet');
    expect(mid.why).toBe('opus estimate $0.77 > budget $0.25; sonnet estimate $0.15 <= budget $0.25');
    const low = pickModel(fresh(), 'comprehensive', ladder, 100, 0.01);
    expect(low.model).toBe('haiku');
    expect(low.why).toMatch(
      new RegExp(
        String.raw`^opus estimate \$0\.77 > budget \$0\.01, ` +
          String.raw`sonnet estimate \$0\.15 > budget \$0\.01, ` +
          String.raw`haiku estimate \$0\.052 > budget \$0\.01; ` +
          String.raw`the cheapest, haiku, runs capped at the budget$`,
      ),
    );
  });

  it('a long prompt can push the strong model over a budget it fits for a short one', () => {
    expect(pickModel(fresh(), 'comprehensive', ladder, 100, 1).model).toBe('opus');
    expect(pickModel(fresh(), 'comprehensive', ladder, 40_000, 1).model).toBe('sonnet');
  });
});

describe('resolveRoute', () => {
  it('with tier "auto" and a budget picks the model and says why, keeping the router\'s reason', () => {
    const r = resolveRoute(
      { tier: 'auto', prompt: 'Run the test suite and tell me what fails.', maxBudgetUsd: 0.25 },
      'speed',
      config,
      fresh(),
    );
    expect(r.tierName).toBe('comprehensive');
    expect(r.model).toBe('sonnet');
    expect(r.routed).toBe(
      'routed: comprehensive on sonnet (opus estimate $0.77 > budget $0.25; sonnet estimate $0.15 <= budget ' +
        '$0.25): mentions running tests or commands',
    );
  });

  it('leaves the model alone without a budget, with a model named, or with a tier named', () => {
    const prompt = 'Run the test suite and tell me what fails.';
    expect(resolveRoute({ tier: 'auto', prompt }, 'speed', config, fresh())).toEqual({
      tierName: 'comprehensive',
      routed: 'routed: comprehensive (mentions running tests or commands)',
    });
    expect(
      resolveRoute({ tier: 'auto', prompt, model: 'opus', maxBudgetUsd: 0.01 }, 'speed', config, fresh()).model,
    ).toBeUndefined();
    expect(resolveRoute({ tier: 'comprehensive', prompt, maxBudgetUsd: 0.01 }, 'speed', config, fresh())).toEqual({
      tierName: 'comprehensive',
    });
    // A simple question goes to speed, whose model (haiku) is already the cheapest.
    expect(
      resolveRoute({ tier: 'auto', prompt: 'What is 2+2?', maxBudgetUsd: 0.25 }, 'speed', config, fresh()).routed,
    ).toMatch(/^routed: speed on haiku \(haiku estimate \$0\.0045 <= budget \$0\.25\): a simple question$/);
  });
});
