import type { Price } from '../config/schema.js';
import { priceOf, usdOf } from './prices.js';

// How a tier typically runs: turns, tokens sent per turn besides the prompt (system prompt, tools, earlier turns),
// output.
export interface UsageProfile {
  turns: number;
  contextTokens: number;
  outputTokens: number;
}

// One finished answer or task, as the cost model learns from it.
export interface CostSample {
  tier: string;
  model: string;
  promptChars: number;
  turns: number;
  /** Every input token sent (plain, cache reads and cache writes), summed over the turns. */
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

// An estimate and what it rests on.
export interface CostEstimate {
  usd: number;
  profile: UsageProfile;
  /** "defaults", or how many recent runs of this tier (and model) it was learned from. */
  basis: string;
}

// Profiles used until a tier has history: the speed tier (one turn, a short prompt), every other tier like
// comprehensive.
export const DEFAULT_PROFILES: Record<string, UsageProfile> = {
  speed: { turns: 1, contextTokens: 2_000, outputTokens: 400 },
  comprehensive: { turns: 8, contextTokens: 20_000, outputTokens: 2_500 },
};

const DEFAULT_WINDOW = 50;

// Tokens of a prompt, estimated from its length: four characters a token.
export const promptTokens = (chars: number): number => Math.ceil(chars / 4);

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

// Estimates what a prompt will cost on a tier and model: prompt tokens (chars/4) plus the tier's usual context, turns
// and output, learned as the mean of the last `window` runs of that tier and model (else of the tier on any model, else
// defaults), priced with the price table: the first turn writes the cache, later turns read it. Pure; history
// injectable.
export class CostModel {
  private readonly samples: CostSample[] = [];
  private readonly window: number;

  constructor(
    private readonly options: {
      prices: Record<string, Price>;
      history?: CostSample[];
      window?: number;
      defaults?: Record<string, UsageProfile>;
    },
  ) {
    this.window = options.window ?? DEFAULT_WINDOW;
    for (const s of options.history ?? []) this.record(s);
  }

  // Learns from one finished run (runs without turns or tokens say nothing and are skipped).
  record(sample: CostSample): void {
    if (!(sample.turns > 0) || !(sample.inputTokens + sample.outputTokens > 0)) return;
    this.samples.push(sample);
    // Keep the last `window` runs of each tier: enough for every model of it.
    const ofTier = this.samples.filter((s) => s.tier === sample.tier);
    if (ofTier.length > this.window * 4) this.samples.splice(this.samples.indexOf(ofTier[0]!), 1);
  }

  // The tier's usual profile on this model, and where it comes from.
  profile(tier: string, model: string): { profile: UsageProfile; basis: string } {
    const ofTier = this.samples.filter((s) => s.tier === tier);
    const exact = ofTier.filter((s) => s.model === model).slice(-this.window);
    const learned = exact.length ? exact : ofTier.slice(-this.window);
    if (!learned.length) {
      const defaults = this.options.defaults ?? DEFAULT_PROFILES;
      return {
        profile: defaults[tier] ?? defaults.comprehensive ?? DEFAULT_PROFILES.comprehensive!,
        basis: 'defaults',
      };
    }
    const profile = {
      turns: mean(learned.map((s) => s.turns)),
      contextTokens: mean(learned.map((s) => Math.max(0, s.inputTokens / s.turns - promptTokens(s.promptChars)))),
      outputTokens: mean(learned.map((s) => s.outputTokens)),
    };
    return { profile, basis: `${learned.length} recent ${tier}${exact.length ? ` ${model}` : ''} runs` };
  }

  // The models of the price table.
  pricedModels(): string[] {
    return Object.keys(this.options.prices);
  }

  // The estimated cost of a prompt on a tier and model; undefined when the model has no price.
  estimate(tier: string, model: string, promptChars: number): CostEstimate | undefined {
    const price = priceOf(this.options.prices, model);
    if (!price) return undefined;
    const { profile, basis } = this.profile(tier, model);
    const perTurn = profile.contextTokens + promptTokens(promptChars);
    const usd = usdOf(price, {
      input: 0,
      cacheWrite: perTurn,
      cacheRead: Math.max(0, profile.turns - 1) * perTurn,
      output: profile.outputTokens,
    });
    return { usd, profile, basis };
  }
}
