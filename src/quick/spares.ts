import type { RunSpec } from '../claude/run.js';
import type { QuickAnswer } from './answer.js';
import type { AnswerCache } from '../answer-cache.js';
import { resolveCwd } from '../cwd.js';
import { runSpec, type RunDeps } from '../run-deps.js';
import type { SparePool } from '../spares/spare-pool.js';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { planRun, tierNeedsFiles } from '../tiers.js';
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

// Keeps the default request of every tier with minSpares > 0 served by warm spares: a quick answer's, or for a tier
// whose runs need files (MCP servers, appended prompt) or ask their caller, a deep task's, with its files shared.
export async function warmDefaultSpares(deps: QuickDeps): Promise<void> {
  for (const [name, tier] of Object.entries(deps.config.tiers)) {
    const bounds = spareBounds(tier);
    if (bounds.min <= 0 || tier.sandbox?.enabled || tier.isolation === 'worktree') continue;
    try {
      const cwd = resolveCwd(undefined, deps.config.allowedRoots);
      const forwardPermissions = tier.permissionPrompts === 'forward';
      const plan = tierNeedsFiles(tier) ? await planRun(name, tier, cwd, deps.config.stateDir, sharedRunDir(deps.config.stateDir, name, cwd, tier.model)) : { mcpConfigPath: null };
      const spec = runSpec(deps, tier, cwd, { model: tier.model, ...(forwardPermissions ? { forwardPermissions } : {}), ...plan });
      deps.spares.keepWarm({ ...spec, key: spareKey(spec), tier: name }, bounds);
    } catch (err) {
      deps.log.warn({ tier: name, err: (err as Error).message }, 'cannot keep warm spares for this tier');
    }
  }
}

// Where the files of spare-able runs live (MCP config, appended prompt): one folder per tier, cwd and model, shared by
// that key's spares and the tasks they serve, so their argv (and spare key) is the same.
export function sharedRunDir(stateDir: string, tier: string, cwd: string, model: string): string {
  return join(stateDir, 'spare-files', createHash('sha256').update(JSON.stringify([tier, cwd, model])).digest('hex').slice(0, 16));
}
