import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config, TierConfig } from './config/schema.js';
import { projectMemory } from './context-files.js';
import { ToolError } from './errors.js';
import { holds, type SpecFile } from './claude/run.js';
import { loadMcpConfig, materializeMcpConfig, mcpAllowedTools, readMcpConfig, writeFileAtomic } from './mcp-config.js';
import { fromPackageRoot } from './paths.js';
import type { SandboxScope } from './isolation/sandbox-hidden.js';
import { fileToolSettings, sandboxSettings } from './isolation/sandbox-settings.js';

const MAX_CONTEXT_FILE = 64 * 1024;

// Checks every tier's MCP config and context files once at start-up; throws with the tier and file named.
export function validateTiers(config: Config): void {
  for (const [name, tier] of Object.entries(config.tiers)) {
    if (tier.mcpConfig) {
      try {
        loadMcpConfig(fromPackageRoot(tier.mcpConfig));
      } catch (err) {
        throw new Error(`tiers.${name}.mcpConfig: ${(err as Error).message}`, { cause: err });
      }
    }
    for (const file of tier.contextFiles) {
      try {
        if (!statSync(file).isFile()) throw new Error('not a file');
      } catch (err) {
        throw new Error(`tiers.${name}.contextFiles: ${file} cannot be read (${(err as Error).message})`, {
          cause: err,
        });
      }
    }
    // Skipping permissions is safe only inside Claude Code's sandbox, or when the operator says so explicitly.
    if (tier.permissionMode === 'bypassPermissions' && !tier.sandbox?.enabled && !tier.dangerouslySkipPermissions) {
      throw new Error(
        `tiers.${name}.permissionMode: "bypassPermissions" needs the tier's sandbox enabled (sandbox: { ` +
          `enabled: true }), or dangerouslySkipPermissions: true`,
      );
    }
  }
}

// What a run of a tier needs besides its flags: its MCP config file (placeholders filled in), the tools that config
// allows, and the file holding the text appended to the system prompt.
export interface RunPlan {
  mcpConfigPath: string | null;
  extraAllowedTools: string[];
  appendSystemPromptFile?: string;
  systemPromptFile?: string;
  /** An unsandboxed run's settings: the rules that keep its file tools off the state dir and the user's config. */
  settingsFile?: string;
}

// The tier's own system prompt, which replaces claude's (contextMode minimal only).
const ownSystemPrompt = (tier: TierConfig): string | undefined =>
  tier.contextMode === 'minimal' && tier.systemPrompt ? tier.systemPrompt : undefined;

// Where a run is planned: its cwd, what it must not read (the server's state dir in it), and the allowed roots (the
// CLAUDE.md walk stays below).
interface PlanPlace {
  cwd: string;
  scope: SandboxScope;
  roots: readonly string[];
}

// The text appended to claude's system prompt: the tier's, the operator's context files, the CLAUDE.md files above
// the cwd (modular context), then the request's.
function appendedText(tierName: string, tier: TierConfig, place: PlanPlace, requestText: string | undefined): string {
  const context =
    tier.contextMode === 'modular'
      ? tier.contextFiles.map((file) => {
          try {
            return `# Context: ${file}\n${readFileSync(file, 'utf8').slice(0, MAX_CONTEXT_FILE)}`;
          } catch (err) {
            throw new ToolError(`tier ${tierName}: context file ${file} cannot be read (${(err as Error).message})`);
          }
        })
      : [];
  const memory = tier.contextMode === 'modular' ? projectMemory(place.cwd, place.roots, place.scope.stateDir) : [];
  return [tier.appendSystemPrompt, ...context, ...memory, requestText]
    .filter((s): s is string => !!s && s.length > 0)
    .join('\n\n');
}

// The files a run of a tier needs, by name and text (nothing written yet), and the tools its MCP config allows.
interface PlannedFiles {
  files: Array<{ name: 'mcp.json' | 'append-system-prompt.txt' | 'system-prompt.txt' | 'settings.json'; text: string }>;
  extraAllowedTools: string[];
  /** The tier's MCP config file, and the stamp of the text the files were planned from. */
  read?: McpRead;
}

// A tier's MCP config file as a plan read it: its path and the stamp of its content then (mcp-config.ts contentStamp).
export interface McpRead {
  path: string;
  stamp: string;
}

// What a run of a tier in a cwd needs written: its MCP config (placeholders filled in), the appended text (the tier's,
// the context files', the request's), the tier's own system prompt, and an unsandboxed run's settings (what its file
// tools must not read: place.scope; a sandboxed run's settings are planSandbox's).
function planFiles(tierName: string, tier: TierConfig, place: PlanPlace, requestAppend?: string): PlannedFiles {
  const { cwd, scope } = place;
  const { stateDir } = scope;
  const planned: PlannedFiles = { files: [], extraAllowedTools: [] };
  const append = appendedText(tierName, tier, place, requestAppend);
  const system = ownSystemPrompt(tier);
  if (tier.mcpConfig) {
    const path = fromPackageRoot(tier.mcpConfig);
    let source;
    try {
      const read = readMcpConfig(path);
      source = read.config;
      planned.read = { path, stamp: read.stamp };
    } catch (err) {
      throw new ToolError(`tier ${tierName}: ${(err as Error).message}; fix tiers.${tierName}.mcpConfig`);
    }
    const config = materializeMcpConfig(source, { CWD: cwd, CLAUDE_TIERS_STATE_DIR: stateDir });
    planned.files.push({ name: 'mcp.json', text: JSON.stringify(config, null, 2) });
    planned.extraAllowedTools = mcpAllowedTools(source);
  }
  if (append) planned.files.push({ name: 'append-system-prompt.txt', text: append });
  if (system) planned.files.push({ name: 'system-prompt.txt', text: system });
  const settings = tier.sandbox?.enabled ? undefined : fileToolSettings(scope);
  if (settings) planned.files.push({ name: 'settings.json', text: JSON.stringify(settings, null, 2) });
  return planned;
}

// The plan of planned files that lie in `dir`.
function planIn(planned: PlannedFiles, dir: string): RunPlan {
  const path = (name: PlannedFiles['files'][number]['name']) =>
    planned.files.some((f) => f.name === name) ? join(dir, name) : undefined;
  return {
    mcpConfigPath: path('mcp.json') ?? null,
    extraAllowedTools: planned.extraAllowedTools,
    appendSystemPromptFile: path('append-system-prompt.txt'),
    systemPromptFile: path('system-prompt.txt'),
    settingsFile: path('settings.json'),
  };
}

// Writes planned files in `dir` (0700, files 0600, each written whole) and returns the plan naming them.
async function writePlan(planned: PlannedFiles, dir: string): Promise<RunPlan> {
  if (planned.files.length) await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const f of planned.files) await writeFileAtomic(join(dir, f.name), f.text);
  return planIn(planned, dir);
}

// Prepares one run of a tier in a cwd, kept off what `scope` hides; its files go in `outDir` (0700, files 0600), which
// the caller removes when the run ends. `roots`: the allowed roots, above which no CLAUDE.md is read.
export async function planRun(
  tierName: string,
  tier: TierConfig,
  cwd: string,
  scope: SandboxScope,
  outDir: string | undefined,
  requestAppend?: string,
  roots: readonly string[] = [],
): Promise<RunPlan> {
  const planned = planFiles(tierName, tier, { cwd, scope, roots }, requestAppend);
  if (!planned.files.length) return { mcpConfigPath: null, extraAllowedTools: planned.extraAllowedTools };
  if (!outDir) throw new ToolError(`tier ${tierName}: this run needs files of its own but has no directory for them`);
  return writePlan(planned, outDir);
}

// A shared run's plan, with the tier's MCP config as it was read for it (a spec made from it is made again when the
// file's content differs), each file it names with the text written there, and the folder when files found there held
// other content (or none): spares spawned from that folder meanwhile may have read what a task wrote.
export type SharedPlan = RunPlan & {
  read?: McpRead;
  files?: SpecFile[];
  rewritten?: string;
};

// The files of a spare-able run (MCP config, appended prompt, settings) in a folder named by their content: a spare
// and the run it serves share them, and a change of content is a new folder (and a new spare key). The content is
// known before anything is written. The folder lies in the state dir, which an unsandboxed task's Bash may write:
// when it is there already (an earlier run's, a spare's), each file is read and trusted only while it holds the
// planned text; another text, or none, is written again. The settings' rules are the same for every run of a server
// from one cwd (its state dir, its config), so the speed tier's runs share one folder.
export async function planShared(
  name: string,
  tier: TierConfig,
  cwd: string,
  scope: SandboxScope,
  roots: readonly string[] = [],
): Promise<SharedPlan> {
  const planned = planFiles(name, tier, { cwd, scope, roots });
  const { read } = planned;
  if (!planned.files.length) return { mcpConfigPath: null, extraAllowedTools: planned.extraAllowedTools };
  const { stateDir } = scope;
  const hash = createHash('sha256');
  for (const f of planned.files) hash.update(f.name).update('\0').update(f.text).update('\0');
  const base = join(stateDir, 'spare-files');
  const dir = join(base, hash.digest('hex').slice(0, 16));
  const files = planned.files.map((f) => ({ path: join(dir, f.name), text: f.text }));
  const plan = { ...planIn(planned, dir), read, files };
  if (!existsSync(dir)) {
    const tmp = join(base, `tmp-${randomUUID()}`);
    await writePlan(planned, tmp);
    const placed = await rename(tmp, dir).then(
      () => true,
      () => false,
    );
    if (placed) return plan;
    // Another run made the folder meanwhile (or a task did): this copy goes, and what is there is checked below.
    await rm(tmp, { recursive: true, force: true });
  }
  let rewritten: string | undefined;
  for (const f of files) {
    if (holds(f)) continue;
    await writeFileAtomic(f.path, f.text);
    rewritten = dir;
  }
  return { ...plan, rewritten };
}

// A sandboxed run's settings in a 0600 file of its own folder: the rules name other tasks' folders (their ids open
// them), which argv would show to every local user; and claude keeps inline settings in one shared temp file per
// content (/tmp/claude-<uid>/claude-settings-<hash>.json) that one ending run deletes while another's bwrap still
// binds it ("bwrap: Can't find source path", issue 19 item 3).
export async function planSandbox(
  tier: TierConfig,
  scope: SandboxScope,
  outDir: string,
  readOnly: readonly string[] = [],
): Promise<{ settingsFile?: string; sandboxScope?: SandboxScope }> {
  const settings = sandboxSettings(tier, scope, readOnly);
  if (!settings) return {};
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const settingsFile = join(outDir, 'settings.json');
  await writeFileAtomic(settingsFile, JSON.stringify(settings, null, 2));
  return { settingsFile, sandboxScope: scope };
}
