import type { TierConfig } from '../config/schema.js';
import { spareBounds } from '../tier-run/tier-run.js';
import type { TaskRequest } from './types.js';

// A task a warm spare can serve: its tier keeps spares and the request adds nothing a spare was not started with
// (no per-task caps, resume, system prompt, output schema, worktree or sandbox, and the tier's own model).
export function spareable(req: TaskRequest, tier: TierConfig): boolean {
  if (spareBounds(tier).max <= 0 || tier.sandbox?.enabled || req.isolation === 'worktree') return false;
  return (
    req.model === tier.model &&
    !req.maxTurns &&
    !req.maxBudgetUsd &&
    !req.resumeSessionId &&
    !req.systemPrompt &&
    !req.outputSchema
  );
}
