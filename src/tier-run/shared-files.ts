import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { TierConfig } from '../config/schema.js';
import { planRun, tierNeedsFiles, type RunPlan } from '../tiers.js';

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
