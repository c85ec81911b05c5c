import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES } from '../../src/config/defaults.js';
import { CostModel, type CostSample } from '../../src/cost/cost-model.js';
import { formatUsd, modelLadder, priceOf } from '../../src/cost/prices.js';

const prices = DEFAULT_PRICES;
const sample = (over: Partial<CostSample> = {}): CostSample => ({
  tier: 'comprehensive',
  model: 'sonnet',
  promptChars: 400,
  turns: 2,
  inputTokens: 2_200,
  outputTokens: 300,
  costUsd: 0.01,
  ...over,
});

describe('prices', () => {
  it('finds a model by its own entry, else by the alias its id contains; an unknown model has no price', () => {
    expect(priceOf(prices, 'opus')).toEqual({ input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 });
    expect(priceOf(prices, 'claude-sonnet-4-5-20250929')).toBe(prices.sonnet);
    expect(
      priceOf({ ...prices, 'claude-opus-4-1': { input: 1, output: 2, cacheRead: 0, cacheWrite: 0 } }, 'claude-opus-4-1')
        ?.output,
    ).toBe(2);
    expect(priceOf(prices, 'gpt-9')).toBeUndefined();
  });

  it('orders the models a tier may use, strongest (by output price) first, from its own model down', () => {
    expect(modelLadder(prices, 'opus')).toEqual(['opus', 'sonnet', 'haiku']);
    expect(modelLadder(prices, 'sonnet')).toEqual(['sonnet', 'haiku']);
    expect(modelLadder(prices, 'haiku')).toEqual(['haiku']);
    expect(modelLadder(prices, 'mystery-model')).toEqual(['mystery-model']);
  });

  it('writes dollars with cents, or two significant digits under ten cents', () => {
    expect(formatUsd(0.4213)).toBe('$0.42');
    expect(formatUsd(1.5)).toBe('$1.50');
    expect(formatUsd(0.004531)).toBe('$0.0045');
  });
});

describe('CostModel', () => {
  it('without history uses the tier defaults, priced per model, and grows with the prompt at chars/4 tokens', () => {
    const model = new CostModel({ prices });
    const opus = model.estimate('comprehensive', 'opus', 0)!;
    const sonnet = model.estimate('comprehensive', 'sonnet', 0)!;
    expect(opus.basis).toBe('defaults');
    expect(opus.profile).toEqual({ turns: 8, contextTokens: 20_000, outputTokens: 2_500 });
    // 20,000 context tokens written once, read on 7 more turns, 2,500 output tokens.
    expect(opus.usd).toBeCloseTo((20_000 * 18.75 + 7 * 20_000 * 1.5 + 2_500 * 75) / 1e6, 9);
    expect(sonnet.usd).toBeCloseTo(opus.usd / 5, 9);
    // 4,000 more characters = 1,000 more tokens on each of the 8 turns.
    expect(model.estimate('comprehensive', 'opus', 4_000)!.usd - opus.usd).toBeCloseTo(
      (1_000 * 18.75 + 7 * 1_000 * 1.5) / 1e6,
      9,
    );
    expect(model.estimate('speed', 'haiku', 0)!.usd).toBeCloseTo((2_000 * 1.25 + 400 * 5) / 1e6, 9);
    expect(model.estimate('comprehensive', 'mystery-model', 0)).toBeUndefined();
  });

  it(
    'learns turns, context and output from the history of the tier and model, and prices it for a model never ' + 'run',
    () => {
      const model = new CostModel({
        prices,
        history: [sample(), sample({ turns: 4, inputTokens: 8_400, outputTokens: 500 })],
      });
      const learned = model.profile('comprehensive', 'sonnet');
      // Per turn: 2,200/2 - 100 prompt tokens = 1,000; 8,400/4 - 100 = 2,000.
      expect(learned).toEqual({
        profile: { turns: 3, contextTokens: 1_500, outputTokens: 400 },
        basis: '2 recent comprehensive sonnet runs',
      });
      const opus = model.estimate('comprehensive', 'opus', 400)!;
      expect(opus.basis).toBe('2 recent comprehensive runs');
      expect(opus.usd).toBeCloseTo((1_600 * 18.75 + 2 * 1_600 * 1.5 + 400 * 75) / 1e6, 9);
      // Another tier's history says nothing about this one.
      expect(model.estimate('speed', 'haiku', 0)!.basis).toBe('defaults');
    },
  );

  it('keeps to the last 50 runs and ignores runs that did nothing', () => {
    const model = new CostModel({ prices });
    for (let i = 0; i < 10; i++) model.record(sample({ turns: 100, inputTokens: 100 * 2_200 }));
    for (let i = 0; i < 50; i++) model.record(sample());
    model.record(sample({ turns: 0, inputTokens: 0, outputTokens: 0 }));
    const { profile, basis } = model.profile('comprehensive', 'sonnet');
    expect(profile.turns).toBe(2);
    expect(basis).toBe('50 recent comprehensive sonnet runs');
  });
});
