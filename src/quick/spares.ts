import type { RunSpec } from '../claude/run.js';
import type { QuickAnswer } from './answer.js';
import type { AnswerCache } from '../answer-cache.js';
import { resolveCwd } from '../cwd.js';
import { runSpec, type RunDeps } from '../run-deps.js';
import type { SparePool } from '../spares/spare-pool.js';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { planRun, tierNeedsFiles, type RunPlan } from '../tiers.js';
import type { TierConfig } from '../config/schema.js';

// What the quick path needs besides a run: warm spares and the answer cache.
export interface QuickDeps extends RunDeps {
  readonly spares: SparePool;
  readonly cache: AnswerCache<QuickAnswer>;
}

// Equal keys mean a warm spare fits the request exactly (binary, argv, cwd).
export const spareKey = (spec: RunSpec): string => JSON.stringify([spec.bin, spec.args, spec.cwd]);

// How many spares a tier keeps per spec: between minSpares (default warmSpares) and maxSpares (default warmSpares).
export const spareBounds = (tier: TierConfig): { min: number; max: number } => ({
  min: tier.minSpares ?? tier.warmSpares,
  max: Math.max(tier.maxSpares ?? tier.warmSpares, tier.minSpares ?? tier.warmSpares),
});

// Keeps the default request of every tier with minSpares > 0 served by warm spares: a quick answer's, or for a tier
// whose runs need files (MCP servers, appended prompt) or ask their caller, a deep task's, with its files shared.
export async function warmDefaultSpares(deps: QuickDeps): Promise<void> {
  for (const [name, tier] of Object.entries(deps.config.tiers)) {
    const bounds = spareBounds(tier);
    if (bounds.min <= 0 || tier.sandbox?.enabled || tier.isolation === 'worktree') continue;
    try {
      const cwd = resolveCwd(undefined, deps.config.allowedRoots);
      const forwardPermissions = tier.permissionPrompts === 'forward';
      const plan = await planShared(name, tier, cwd, deps.config.stateDir);
      const spec = runSpec(deps, tier, cwd, {
        model: tier.model,
        ...(forwardPermissions ? { forwardPermissions } : {}),
        ...plan,
      });
      deps.spares.keepWarm({ ...spec, key: spareKey(spec), tier: name }, bounds);
    } catch (err) {
      deps.log.warn({ tier: name, err: (err as Error).message }, 'cannot keep warm spares for this tier');
    }
  }
}

// The files of a spare-able run (MCP config, appended prompt) in a folder named by their content: a spare and the
// task it serves share them, a change of content is a new folder (and a new spare key), and nothing is rewritten in
// place under a running claude.
export async function planShared(name: string, tier: TierConfig, cwd: string, stateDir: string): Promise<RunPlan> {
  if (!tierNeedsFiles(tier)) return { mcpConfigPath: null, extraAllowedTools: [] };
  const base = join(stateDir, 'spare-files');
  const tmp = join(base, `tmp-${randomUUID()}`);
  const plan = await planRun(name, tier, cwd, stateDir, tmp);
  const named = [plan.mcpConfigPath, plan.appendSystemPromptFile, plan.systemPromptFile];
  const files = named.filter((f): f is string => !!f);
  const hash = createHash('sha256');
  for (const f of files)
    hash
      .update(basename(f))
      .update('\0')
      .update(await readFile(f))
      .update('\0');
  const dir = join(base, hash.digest('hex').slice(0, 16));
  if (existsSync(dir)) await rm(tmp, { recursive: true, force: true });
  else await rename(tmp, dir).catch(() => rm(tmp, { recursive: true, force: true }));
  const moved = (f: string | undefined) => (f ? join(dir, basename(f)) : undefined);
  return {
    ...plan,
    mcpConfigPath: moved(plan.mcpConfigPath ?? undefined) ?? null,
    appendSystemPromptFile: moved(plan.appendSystemPromptFile),
    systemPromptFile: moved(plan.systemPromptFile),
  };
}
