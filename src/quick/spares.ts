import type { RunSpec } from '../claude/run.js';
import type { QuickAnswer } from './answer.js';
import type { AnswerCache } from '../answer-cache.js';
import { resolveCwd } from '../cwd.js';
import { runSpec, type RunDeps } from '../run-deps.js';
import type { SparePool } from '../spares/spare-pool.js';
import { tierNeedsFiles } from '../tiers.js';
import type { TierConfig } from '../config/schema.js';

// What the quick path needs besides a run: warm spares and the answer cache.
export interface QuickDeps extends RunDeps {
  readonly spares: SparePool;
  readonly cache: AnswerCache<QuickAnswer>;
}

// Equal keys mean a warm spare fits the request exactly (binary, argv, cwd).
export const spareKey = (spec: RunSpec): string => JSON.stringify([spec.bin, spec.args, spec.cwd]);

// How many spares a tier keeps per spec: between minSpares (default warmSpares) and maxSpares (default warmSpares).
export const spareBounds = (tier: TierConfig): { min: number; max: number } => ({ min: tier.minSpares ?? tier.warmSpares, max: Math.max(tier.maxSpares ?? tier.warmSpares, tier.minSpares ?? tier.warmSpares) });

// Keeps the default request of every tier with warmSpares > 0 served by warm spares (tiers without per-run files only).
export function warmDefaultSpares(deps: QuickDeps): void {
  for (const [name, tier] of Object.entries(deps.config.tiers)) {
    if (spareBounds(tier).min <= 0) continue;
    if (tierNeedsFiles(tier)) {
      deps.log.info({ tier: name }, 'no warm spares for this tier: its runs need files of their own (MCP config or appended system prompt)');
      continue;
    }
    try {
      const spec = runSpec(deps, tier, resolveCwd(undefined, deps.config.allowedRoots), { model: tier.model, mcpConfigPath: null });
      deps.spares.keepWarm({ ...spec, key: spareKey(spec), tier: name }, spareBounds(tier));
    } catch (err) {
      deps.log.warn({ tier: name, err: (err as Error).message }, 'cannot keep warm spares for this tier');
    }
  }
}
