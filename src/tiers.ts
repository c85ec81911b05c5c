import { readFileSync, statSync } from 'node:fs';
import type { Config, TierConfig } from './config/schema.js';
import { ToolError } from './errors.js';
import { loadMcpConfig, materializeMcpConfig, mcpAllowedTools, writeMcpConfig } from './mcp-config.js';
import { fromPackageRoot } from './paths.js';

// Looks a tier up by name; an unknown name is an error that lists the known ones.
export function getTier(config: Config, name: string): TierConfig {
  // Own keys only: "constructor" or "__proto__" must not find Object.prototype's members.
  const tier = Object.hasOwn(config.tiers, name) ? config.tiers[name] : undefined;
  if (!tier) throw new ToolError(`tier: unknown tier "${name}"; known tiers: ${Object.keys(config.tiers).join(', ')}, or "auto"`);
  return tier;
}

const MAX_CONTEXT_FILE = 64 * 1024;

// Checks every tier's MCP config and context files once at start-up; throws with the tier and file named.
export function validateTiers(config: Config): void {
  for (const [name, tier] of Object.entries(config.tiers)) {
    if (tier.mcpConfig) {
      try {
        loadMcpConfig(fromPackageRoot(tier.mcpConfig));
      } catch (err) {
        throw new Error(`tiers.${name}.mcpConfig: ${(err as Error).message}`);
      }
    }
    for (const file of tier.contextFiles) {
      try {
        if (!statSync(file).isFile()) throw new Error('not a file');
      } catch (err) {
        throw new Error(`tiers.${name}.contextFiles: ${file} cannot be read (${(err as Error).message})`);
      }
    }
    if (tier.permissionMode === 'bypassPermissions' && !tier.dangerouslySkipPermissions) {
      throw new Error(`tiers.${name}.permissionMode: "bypassPermissions" also needs dangerouslySkipPermissions: true (and a sandbox)`);
    }
  }
}

// What a run of a tier needs besides its flags: its MCP config file (placeholders filled in), the tools that config allows, the context text.
export interface RunPlan {
  mcpConfigPath: string | null;
  extraAllowedTools: string[];
  contextText?: string;
}

// Prepares one run of a tier in a cwd; `mcpOut` is where the run's MCP config is written.
export async function planRun(tierName: string, tier: TierConfig, cwd: string, stateDir: string, mcpOut: string): Promise<RunPlan> {
  let mcpConfigPath: string | null = null;
  let extraAllowedTools: string[] = [];
  if (tier.mcpConfig) {
    let source;
    try {
      source = loadMcpConfig(fromPackageRoot(tier.mcpConfig));
    } catch (err) {
      throw new ToolError(`tier ${tierName}: ${(err as Error).message}; fix tiers.${tierName}.mcpConfig`);
    }
    mcpConfigPath = await writeMcpConfig(mcpOut, materializeMcpConfig(source, { CWD: cwd, CLAUDE_TIERS_STATE_DIR: stateDir }));
    extraAllowedTools = mcpAllowedTools(source);
  }
  let contextText: string | undefined;
  if (tier.contextMode === 'modular' && tier.contextFiles.length) {
    contextText = tier.contextFiles
      .map((file) => {
        try {
          return `# Context: ${file}\n${readFileSync(file, 'utf8').slice(0, MAX_CONTEXT_FILE)}`;
        } catch (err) {
          throw new ToolError(`tier ${tierName}: context file ${file} cannot be read (${(err as Error).message})`);
        }
      })
      .join('\n\n');
  }
  return { mcpConfigPath, extraAllowedTools, contextText };
}
