import type { TierConfig } from '../config/schema.js';
import { spareBounds } from '../tier-run/tier-run.js';
import type { TaskRequest } from './types.js';

// A task a warm spare can serve: its tier keeps spares and the request adds nothing a spare was not started with
// (no per-task caps, resume, system prompt, output schema, worktree or sandbox, and the tier's own model), and it runs
// no deeper than this server (`depth`): a spare's claude has the server's depth in its env (CLAUDE_TIERS_DEPTH), so a
// task queued by a deeper server (cluster) on one would slip past the recursion guard.
export function spareable(req: TaskRequest, tier: TierConfig, depth: number): boolean {
  if (spareBounds(tier).max <= 0 || tier.sandbox?.enabled || req.isolation === 'worktree') return false;
  return (
    (req.depth ?? 0) <= depth &&
    req.model === tier.model &&
    !req.maxTurns &&
    !req.maxBudgetUsd &&
    !req.resumeSessionId &&
    !req.systemPrompt &&
    !req.outputSchema
  );
}
