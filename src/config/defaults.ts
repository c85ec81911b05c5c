import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Config, Price, TierConfig } from './schema.js';

// Where task state lives unless configured: $XDG_STATE_HOME/claude-tiers, else ~/.local/state/claude-tiers.
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && xdg.startsWith('/') ? xdg : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'claude-tiers');
}

// Public list prices (USD per million tokens) of the aliases, as chosen here: haiku 1/5, sonnet 3/15, opus 15/75
// in/out; a cache read costs 0.1x the input price, a cache write (5-minute cache) 1.25x. Override or add models with
// `prices`.
export const DEFAULT_PRICES: Record<string, Price> = {
  haiku: { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 },
  sonnet: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  opus: { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
};

// Every default in one place: the built-in tiers and the registry limits.
export function defaultConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  // The comprehensive tier, and the sandboxed tier built on it.
  const comprehensive: TierConfig = {
    description:
      'Strong model, full tool set and the MCP servers of .mcp.comprehensive.json; long tasks with progress.',
    model: 'opus',
    fallbackModel: 'sonnet',
    mcpConfig: '.mcp.comprehensive.json',
    allowedTools: [
      'Bash',
      'Read',
      'Edit',
      'Write',
      'Glob',
      'Grep',
      'NotebookEdit',
      'TodoWrite',
      'WebFetch',
      'WebSearch',
    ],
    disallowedTools: [],
    permissionMode: 'acceptEdits',
    dangerouslySkipPermissions: false,
    contextMode: 'modular',
    contextFiles: [],
    timeoutS: 3600,
    idleTimeoutS: 240,
    maxRetries: 4,
    sessionPersistence: true,
    // List MCP tools directly instead of behind claude's ToolSearch: a handful of servers, no extra search turn.
    env: { ENABLE_TOOL_SEARCH: 'false' },
    warmSpares: 0,
    cacheTtlS: 0,
    loopRepeats: 5,
    partialMessages: true,
    permissionPrompts: 'forward',
    permissionTimeoutS: 300,
    isolation: 'none',
    // Spares with the MCP servers already connected, only while deep tasks come (none when they do not).
    minSpares: 0,
    maxSpares: 2,
  };
  return {
    stateDir: defaultStateDir(env),
    logLevel: 'info',
    allowedRoots: [cwd],
    maxDepth: 1,
    allowedHosts: [],
    httpTokens: [],
    secretEnv: [],
    prices: structuredClone(DEFAULT_PRICES),
    budgets: {},
    limits: {
      maxRunning: 4,
      maxQueue: 100,
      killGraceMs: 2000,
      interruptWaitMs: 3000,
      eventRingSize: 200,
      maxPromptChars: 100_000,
      maxWaitS: 60,
      pruneMaxAgeDays: 14,
      pruneMaxTasks: 20_000,
      maxStdoutLineBytes: 8 * 1024 * 1024,
      spareTtlS: 600,
      cacheMaxEntries: 500,
      cacheMaxBytes: 8 * 1024 * 1024,
      maxOutputBytes: 64 * 1024 * 1024,
      shutdownMs: 1400,
      spareMemoryMb: 1536,
      spareWarmupS: 1.5,
      spareIdleS: 120,
      spareKeys: 8,
      breakerThreshold: 3,
      breakerCooldownS: 30,
      ratePerMinute: 120,
      rateBurst: 20,
      globalRatePerMinute: 600,
      auditPrompts: false,
      auditMaxBytes: 10 * 1024 * 1024,
    },
    tiers: {
      speed: {
        description: 'Fast model, minimal context, no extra MCP servers, read-only tools; synchronous answers.',
        model: 'haiku',
        mcpConfig: null,
        allowedTools: ['Read', 'Glob', 'Grep'],
        disallowedTools: [],
        permissionMode: 'default',
        dangerouslySkipPermissions: false,
        contextMode: 'minimal',
        contextFiles: [],
        systemPrompt:
          'You are Claude Code, answering a quick question from another agent. Answer directly and briefly. ' +
          'Use the read-only tools only when the question is about local files.',
        timeoutS: 120,
        idleTimeoutS: 120,
        maxRetries: 1,
        sessionPersistence: false,
        env: {},
        warmSpares: 1,
        maxSpares: 4,
        cacheTtlS: 0,
        loopRepeats: 5,
        partialMessages: false,
        permissionPrompts: 'deny',
        permissionTimeoutS: 300,
        isolation: 'none',
      },
      comprehensive,
      sandboxed: {
        ...comprehensive,
        description:
          "Like comprehensive, inside Claude Code's own sandbox: Bash writes only in the task's worktree, no network " +
          "unless allow-listed, Edit/Write refused outside the cwd, the server's state dir and config unreadable; " +
          'skips permission prompts only because the sandbox is on.',
        // MCP servers would run outside the sandbox; WebFetch is not held by the sandbox's network allow-list.
        mcpConfig: null,
        allowedTools: ['Bash', 'Read', 'Edit', 'Write', 'Glob', 'Grep', 'NotebookEdit', 'TodoWrite'],
        // CronCreate (durable) writes .claude/scheduled_tasks.json from claude's own process, past the sandbox's
        // read-only .claude and the path guard: a prompt that outlives the task. The scheduling tools go with it.
        disallowedTools: ['WebFetch', 'WebSearch', 'CronCreate', 'CronDelete', 'CronList', 'ScheduleWakeup'],
        permissionMode: 'bypassPermissions',
        env: {},
        sandbox: { enabled: true, network: { allowedDomains: [] } },
        isolation: 'worktree',
        // Inside the sandbox nothing asks: bypassPermissions. Its tasks run in worktrees: no spares.
        permissionPrompts: 'deny',
        maxSpares: 0,
      },
    },
  };
}
