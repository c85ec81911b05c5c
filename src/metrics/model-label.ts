// Where a metric's model label comes from: the models the operator configured (each tier's model and fallback
// model, and the price table's names), never a client's free text.
export interface KnownModels {
  tiers: Record<string, { model: string; fallbackModel?: string }>;
  prices: Record<string, unknown>;
}

// The label a model gets on /metrics: a configured name as it is, an id that contains a configured name (as
// "claude-haiku-4-5" contains "haiku") that name, anything else "other"; so a client choosing model names cannot
// add series to the unauthenticated metrics port.
export function modelLabeler(known: KnownModels): (model: string) => string {
  const names = new Set<string>(Object.keys(known.prices));
  for (const tier of Object.values(known.tiers)) {
    names.add(tier.model);
    if (tier.fallbackModel) names.add(tier.fallbackModel);
  }
  // Longest first: "claude-opus-4-1" is labelled by the most specific name it contains.
  const byLength = [...names].sort((a, b) => b.length - a.length);
  return (model) => {
    if (names.has(model)) return model;
    const lower = model.toLowerCase();
    return byLength.find((name) => lower.includes(name.toLowerCase())) ?? 'other';
  };
}

// The label of a circuit key (tier:model): the tier as it is (tiers are configured), the model bounded as above.
export function circuitLabel(key: string, model: (m: string) => string): string {
  const at = key.indexOf(':');
  return at < 0 ? key : `${key.slice(0, at)}:${model(key.slice(at + 1))}`;
}
