import type { Price } from '../config/schema.js';

// Tokens of one run (or one estimate), by how they are billed.
export interface TokenCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

// The price of a model: its own entry, else the entry of the alias its id contains ("claude-opus-4-1" -> opus).
export function priceOf(prices: Record<string, Price>, model: string): Price | undefined {
  if (Object.hasOwn(prices, model)) return prices[model];
  const lower = model.toLowerCase();
  const alias = Object.keys(prices).find((name) => lower.includes(name.toLowerCase()));
  return alias ? prices[alias] : undefined;
}

// What tokens cost at a price (USD per million tokens).
export function usdOf(price: Price, t: TokenCounts): number {
  return (
    (t.input * price.input +
      t.output * price.output +
      t.cacheRead * price.cacheRead +
      t.cacheWrite * price.cacheWrite) /
    1_000_000
  );
}

// Dollars as the router writes them: $0.42, $1.50, or two significant digits under ten cents ($0.0045).
export function formatUsd(usd: number): string {
  if (usd >= 0.1 || usd === 0) return `$${usd.toFixed(2)}`;
  return `$${Number(usd.toPrecision(2))}`;
}

// The models a tier may be moved to, strongest (by output price) first: its own model, then every priced model
// that costs less. A tier whose model has no price has only its own model.
export function modelLadder(prices: Record<string, Price>, tierModel: string): string[] {
  const own = priceOf(prices, tierModel);
  if (!own) return [tierModel];
  const cheaper = Object.entries(prices)
    .filter(([name, p]) => name !== tierModel && p.output < own.output)
    .sort((a, b) => b[1].output - a[1].output || b[1].input - a[1].input)
    .map(([name]) => name);
  return [tierModel, ...cheaper];
}
