import type { QuickAnswer } from './answer.js';
import type { AnswerCache } from '../answer-cache.js';
import { pathBounds, resolveCwd } from '../cwd.js';
import { sharedSpec, spareBounds, spareKey, type TierRunDeps } from '../tier-run/tier-run.js';

// What the quick path needs besides a run: the answer cache.
export interface QuickDeps extends TierRunDeps {
  readonly cache: AnswerCache<QuickAnswer>;
}

// Keeps the default request of every tier with minSpares > 0 served by warm spares: a quick answer's, or for a tier
// whose runs need files (MCP servers, appended prompt) or ask their caller, a deep task's, with its files shared.
export async function warmDefaultSpares(deps: QuickDeps): Promise<void> {
  for (const [name, tier] of Object.entries(deps.config.tiers)) {
    const bounds = spareBounds(tier);
    if (bounds.min <= 0 || tier.sandbox?.enabled || tier.isolation === 'worktree') continue;
    try {
      const cwd = resolveCwd(undefined, pathBounds(deps.config.allowedRoots));
      const flags = tier.permissionPrompts === 'forward' ? { forwardPermissions: true } : {};
      const spec = await sharedSpec(deps, name, tier, cwd, tier.model, flags);
      deps.spares.keepWarm({ ...spec, key: spareKey(spec), tier: name }, bounds);
    } catch (err) {
      deps.log.warn({ tier: name, err: (err as Error).message }, 'cannot keep warm spares for this tier');
    }
  }
}
