import type { TierConfig } from '../config/schema.js';
import type { SandboxScope } from '../isolation/sandbox-hidden.js';
import { sandboxSettings } from '../isolation/sandbox-settings.js';
import { ALWAYS_SECRET_ENV } from '../secrets.js';

// What one request adds on top of its tier; every value here has already been validated by a tool schema.
export interface RunRequest {
  model?: string;
  maxTurns?: number;
  maxBudgetUsd?: number;
  resumeSessionId?: string;
  /** With resumeSessionId: a new session branched from it (two follow-ups of one task never share a transcript). */
  forkSession?: boolean;
  /** The run's MCP config as an absolute path, or null for none. */
  mcpConfigPath: string | null;
  /** Allowed on top of the tier's list (mcp__<server> for each configured server). */
  extraAllowedTools?: string[];
  /** Ask the host about tool uses the tier does not allow (a task whose caller can answer). */
  forwardPermissions?: boolean;
  /** A 0600 file with everything appended to the system prompt (tier text, context files, the request's system_prompt):
   * long text never goes in argv. */
  appendSystemPromptFile?: string;
  /** A 0600 file with the tier's own system prompt (contextMode minimal): operator text never goes in argv either. */
  systemPromptFile?: string;
  /** A 0600 file holding sandboxSettings(tier, sandboxScope) as JSON (without it they go inline in argv), or for a
   * tier without the sandbox fileToolSettings(scope): what its file tools must not read. */
  settingsFile?: string;
  /** What a sandboxed run must not read (the state dir less its own folder, the user's config). */
  sandboxScope?: SandboxScope;
  /** What a sandboxed run must not write (serverCode: the claude binary and the server's own code). */
  readOnly?: readonly string[];
}

const isBuiltinTool = (t: string) => !t.startsWith('mcp__');

// Options are always written as `--flag=value` so no value (model, prompt text) can be read as another flag.
const opt = (flag: string, value: string | number): string => `--${flag}=${value}`;

// Builds claude's argv for a tier. The prompt is never part of it: it goes to stdin.
export function buildClaudeArgs(tier: TierConfig, req: RunRequest): string[] {
  const model = req.model ?? tier.model;
  const args = ['-p'];
  // Every run is stream-json both ways: the prompt and control messages go in on stdin, events come out.
  args.push(opt('input-format', 'stream-json'), opt('output-format', 'stream-json'), '--verbose');
  if (tier.partialMessages) args.push('--include-partial-messages');
  args.push(opt('model', model));
  if (tier.fallbackModel && tier.fallbackModel !== model) args.push(opt('fallback-model', tier.fallbackModel));
  // A task's tree is hostile input: its .claude/settings*.json (hooks run outside any sandbox, disableAllHooks turns
  // off the path guard, permissions and env steer claude) and its .mcp.json are never loaded. Only the operator's own
  // settings in HOME (user) and the ones this server passes (--settings) apply.
  args.push(opt('setting-sources', 'user'), '--strict-mcp-config');
  if (req.mcpConfigPath) args.push(opt('mcp-config', req.mcpConfigPath));
  const allowed = [...tier.allowedTools, ...(req.extraAllowedTools ?? [])];
  if (allowed.length) args.push(opt('allowedTools', allowed.join(',')));
  if (tier.disallowedTools.length) args.push(opt('disallowedTools', tier.disallowedTools.join(',')));
  if (tier.permissionMode !== 'default') args.push(opt('permission-mode', tier.permissionMode));
  // Permission requests come to the host as can_use_tool control requests (answered by the run's permission hook).
  if (req.forwardPermissions) args.push(opt('permission-prompt-tool', 'stdio'));
  // Claude Code's own sandbox (the only reason a built-in tier may bypass permissions): settings from a file or inline.
  // A tier without one never builds them.
  const sandbox = tier.sandbox?.enabled ? sandboxSettings(tier, req.sandboxScope, req.readOnly) : undefined;
  if (sandbox) args.push(opt('settings', req.settingsFile ?? JSON.stringify(sandbox)));
  // Any other tier: the rules that keep its file tools off the server's state dir and the user's config (planFiles).
  else if (req.settingsFile) args.push(opt('settings', req.settingsFile));
  // Only the operator's config can turn this on; no tool input reaches it.
  if (tier.dangerouslySkipPermissions) args.push('--dangerously-skip-permissions');
  const maxTurns = req.maxTurns ?? tier.maxTurns;
  if (maxTurns !== undefined) args.push(opt('max-turns', maxTurns));
  const budget = req.maxBudgetUsd ?? tier.maxBudgetUsd;
  if (budget !== undefined) args.push(opt('max-budget-usd', budget));
  if (tier.contextMode === 'minimal') {
    // Minimal context: a short system prompt and only the tier's built-in tools offered (CLAUDE.md discovery is off via
    // env). The tier's system prompt comes from the file planRun wrote (never argv); every run of the server has one.
    if (req.systemPromptFile) args.push(opt('system-prompt-file', req.systemPromptFile));
    args.push(opt('tools', tier.allowedTools.filter(isBuiltinTool).join(',')));
  } else {
    // Modular context: the project's CLAUDE.md, which the user source alone leaves out, comes in as the memory of an
    // added folder, the cwd itself (CLAUDE_CODE_ADDITIONAL_DIRECTORIES_CLAUDE_MD): text, without the folder's settings.
    args.push(opt('add-dir', '.'));
  }
  if (req.appendSystemPromptFile) args.push(opt('append-system-prompt-file', req.appendSystemPromptFile));
  if (req.resumeSessionId) args.push(opt('resume', req.resumeSessionId));
  if (req.resumeSessionId && req.forkSession) args.push('--fork-session');
  if (!tier.sessionPersistence && !req.resumeSessionId) args.push('--no-session-persistence');
  return args;
}

// The environment claude runs with: the server's own minus its secrets (the HTTP token, the config's secretEnv), plus
// what the tier adds.
export function buildClaudeEnv(
  tier: TierConfig,
  base: NodeJS.ProcessEnv,
  depth: number,
  secretEnv: readonly string[] = [],
): Record<string, string> {
  const withheld = new Set([...ALWAYS_SECRET_ENV, ...secretEnv]);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !withheld.has(k)) env[k] = v;
  env.CLAUDE_CODE_MAX_RETRIES = String(tier.maxRetries);
  env.CLAUDE_TIERS_DEPTH = String(depth + 1);
  if (tier.contextMode === 'minimal') {
    env.CLAUDE_CODE_DISABLE_CLAUDE_MDS = '1';
    env.CLAUDE_CODE_DISABLE_AUTO_MEMORY = '1';
  } else env.CLAUDE_CODE_ADDITIONAL_DIRECTORIES_CLAUDE_MD = '1';
  // Claude refuses bypassPermissions as root unless told it runs in a sandbox; only a sandboxed tier says so.
  if (tier.sandbox?.enabled) env.IS_SANDBOX = '1';
  Object.assign(env, tier.env);
  return env;
}
