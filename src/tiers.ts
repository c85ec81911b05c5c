import { existsSync } from 'node:fs';
import type { Config, TierConfig } from './config/schema.js';
import { ToolError } from './errors.js';
import { fromPackageRoot } from './paths.js';

// Looks a tier up by name; an unknown name is an error that lists the known ones.
export function getTier(config: Config, name: string): TierConfig {
  const tier = config.tiers[name];
  if (!tier) throw new ToolError(`tier: unknown tier "${name}"; known tiers: ${Object.keys(config.tiers).join(', ')}`);
  return tier;
}

// The tier's MCP config as an absolute path, or null; a configured file that is missing is an error.
export function tierMcpConfigPath(tierName: string, tier: TierConfig): string | null {
  if (!tier.mcpConfig) return null;
  const path = fromPackageRoot(tier.mcpConfig);
  if (!existsSync(path)) throw new ToolError(`tier ${tierName}: its MCP config ${path} does not exist; fix tiers.${tierName}.mcpConfig`);
  return path;
}
