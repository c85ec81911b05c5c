import { isAbsolute } from 'node:path';
import { z } from 'zod';

// A model name or alias as claude accepts it; never shaped like a flag.
export const ModelName = z
  .string()
  .min(1)
  .max(100)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:[\]/@-]*$/,
    'a model alias (haiku, sonnet, opus) or a full model id: letters, digits, . _ : - only, not starting with "-"',
  );

const ToolName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_*()/:.,\s-]+$/, 'a claude tool name such as Bash, Read or mcp__server__tool')
  .refine((s) => !s.startsWith('-'), 'must not start with "-"');

// The shortest HTTP bearer token accepted, from the config or CLAUDE_TIERS_HTTP_TOKEN alike.
export const HTTP_TOKEN_MIN = 16;
// The HTTP bearer token: long enough not to be guessed, printable, no spaces (it travels in a header).
export const HttpToken = z
  .string()
  .min(
    HTTP_TOKEN_MIN,
    `httpToken must be at least ${HTTP_TOKEN_MIN} characters; remove it to have one generated at start-up`,
  )
  .regex(/^[\x21-\x7e]+$/, 'httpToken must be printable ASCII without spaces');

const HostName = z
  .string()
  .regex(
    /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/,
    'a host name such as tiers.example.com (no scheme, no port)',
  );
// A host as Claude Code's sandbox.network.allowedDomains takes it: "api.example.com", "*.example.com", "10.0.0.1",
// "[::1]" or "localhost", each with an optional ":port" (a bare local address opens every port of it).
export const SandboxHost = z
  .string()
  .regex(
    /^(\*\.)?([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/,
    'a host such as api.example.com, *.example.com, 10.0.0.1 or localhost:8080 (no scheme, no path)',
  );

// Claude Code's own sandbox for a tier (bubblewrap + socat on Linux): Bash writes only in the cwd, network
// allow-listed.
export const SandboxSchema = z.strictObject({
  enabled: z.boolean().default(true),
  network: z.strictObject({ allowedDomains: z.array(SandboxHost).default([]) }).prefault({}),
});
export type SandboxConfig = z.infer<typeof SandboxSchema>;

// One tier: everything that shapes a claude process for one kind of request.
export const TierSchema = z.strictObject({
  description: z.string().default(''),
  model: ModelName,
  fallbackModel: ModelName.optional(),
  fallbackTier: z.string().optional(),
  /** Ignored since every run is stream-json both ways; still accepted so existing config files keep loading. */
  outputFormat: z.enum(['json', 'stream-json']).optional(),
  mcpConfig: z.string().nullable().default(null),
  allowedTools: z.array(ToolName).default([]),
  disallowedTools: z.array(ToolName).default([]),
  permissionMode: z.enum(['default', 'acceptEdits', 'plan', 'dontAsk', 'bypassPermissions']).default('default'),
  dangerouslySkipPermissions: z.boolean().default(false),
  contextMode: z.enum(['minimal', 'modular']).default('minimal'),
  contextFiles: z.array(z.string()).default([]),
  appendSystemPrompt: z.string().optional(),
  /** In minimal context mode: claude's whole system prompt (replaces the long default). */
  systemPrompt: z.string().optional(),
  maxTurns: z.number().int().positive().optional(),
  maxBudgetUsd: z.number().positive().optional(),
  timeoutS: z.number().positive().max(86_400),
  idleTimeoutS: z.number().positive().max(86_400),
  maxRetries: z.number().int().min(0).max(15),
  sessionPersistence: z.boolean().default(false),
  env: z.record(z.string(), z.string()).default({}),
  warmSpares: z.number().int().min(0).max(8).default(0),
  /** Warm spares follow demand between minSpares (default: warmSpares) and maxSpares (default: warmSpares). */
  minSpares: z.number().int().min(0).max(16).optional(),
  maxSpares: z.number().int().min(0).max(16).optional(),
  /** Answers of this tier are cached for this long (0 = only when a call asks with cache: true). */
  cacheTtlS: z.number().min(0).max(86_400).default(0),
  /** Monitors: stop a task after the same tool call this many times in a row (0 = off). */
  loopRepeats: z.number().int().min(0).max(1000).default(5),
  maxOutputTokens: z.number().int().positive().optional(),
  /** Stop a task whose process tree uses more resident memory than this (sampled every 2 s). */
  maxMemoryMb: z.number().int().positive().optional(),
  /** stream-json tiers: ask claude for partial messages, so output tokens are counted live (caps act mid-turn). */
  partialMessages: z.boolean().default(false),
  /**
   * A tool use the tier does not allow: ask the caller ("forward", tasks only) or let claude deny it at once ("deny").
   */
  permissionPrompts: z.enum(['forward', 'deny']).default('deny'),
  /** How long a forwarded permission request waits for an answer before it is denied. */
  permissionTimeoutS: z.number().positive().max(86_400).default(300),
  /** Claude Code's sandbox for Bash, with write and network limits; absent or disabled = no sandbox. */
  sandbox: SandboxSchema.optional(),
  /**
   * "worktree": the task runs in its own git worktree on branch claude-tiers/<task_id> (deep_task can ask for it too).
   */
  isolation: z.enum(['none', 'worktree']).default('none'),
});
export type TierConfig = z.infer<typeof TierSchema>;

// Limits of the task registry, all in one place.
export const LimitsSchema = z.strictObject({
  /** 0: a front end that runs no tasks itself (a cluster's API server; needs redis). */
  maxRunning: z.number().int().min(0).max(64),
  maxQueue: z.number().int().min(0).max(100_000),
  /** Queue places one principal (HTTP token) may hold; default: maxQueue shared by the principals with tasks. */
  perPrincipalQueue: z.number().int().min(0).max(100_000).optional(),
  killGraceMs: z.number().int().min(0).max(60_000),
  interruptWaitMs: z.number().int().min(0).max(60_000),
  eventRingSize: z.number().int().min(10).max(100_000),
  maxPromptChars: z.number().int().min(1).max(10_000_000),
  maxWaitS: z.number().min(0).max(600),
  pruneMaxAgeDays: z.number().positive(),
  pruneMaxTasks: z.number().int().positive(),
  maxStdoutLineBytes: z.number().int().min(1024),
  spareTtlS: z.number().positive().max(86_400),
  cacheMaxEntries: z.number().int().min(0).max(100_000),
  cacheMaxBytes: z.number().int().min(0),
  /** Captured output per task (stdout of claude); over it the task is stopped. */
  maxOutputBytes: z.number().int().min(1024),
  /** Warm spares: their memory budget in all, the warm-up time demand must cover, the quiet time after which only
   * minSpares stay, and how many specs (cwds) are kept warm at once. */
  spareMemoryMb: z.number().int().min(0).max(1_000_000),
  spareWarmupS: z.number().positive().max(120),
  spareIdleS: z.number().positive().max(86_400),
  spareKeys: z.number().int().min(1).max(100),
  /** How long a server shutdown may take in all; its stops use a fifth of it to interrupt and a third as kill grace. */
  shutdownMs: z.number().int().min(100).max(60_000),
  breakerThreshold: z.number().int().min(0),
  breakerCooldownS: z.number().positive(),
  ratePerMinute: z.number().min(0),
  rateBurst: z.number().int().min(1),
  globalRatePerMinute: z.number().min(0),
  /** Audit log: keep prompt text (else a sha256 hash) and the size at which the file is rotated. */
  auditPrompts: z.boolean(),
  auditMaxBytes: z.number().int().min(1024),
});
export type Limits = z.infer<typeof LimitsSchema>;

// List prices of one model in USD per million tokens: input, output, cache reads and cache writes.
export const PriceSchema = z.strictObject({
  input: z.number().min(0, 'prices.<model>.input is USD per million input tokens, >= 0'),
  output: z.number().min(0, 'prices.<model>.output is USD per million output tokens, >= 0'),
  cacheRead: z.number().min(0, 'prices.<model>.cacheRead is USD per million cache-read tokens, >= 0'),
  cacheWrite: z.number().min(0, 'prices.<model>.cacheWrite is USD per million cache-write tokens, >= 0'),
});
export type Price = z.infer<typeof PriceSchema>;

// What the webhook is told about: a task that needs its caller's answer, or one that ended.
export const NOTIFY_EVENTS = ['needs_input', 'succeeded', 'failed', 'killed', 'timed_out', 'lost'] as const;

// The webhook of notify: where task events are POSTed, signed with a secret the receiver shares.
export const NotifySchema = z.strictObject({
  url: z
    .string()
    .refine(
      (u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol),
      'notify.url is an http:// or https:// URL',
    ),
  events: z
    .array(z.enum(NOTIFY_EVENTS, { error: `notify.events takes ${NOTIFY_EVENTS.join(', ')}` }))
    .min(1, 'notify.events names at least one event')
    .default(['needs_input', 'succeeded', 'failed', 'lost']),
  /** HMAC-SHA256 key of the x-claude-tiers-signature header. */
  secret: z.string().min(16, 'notify.secret must be at least 16 characters (the receiver checks signatures with it)'),
  /** The address people open one-tap links at (a reverse proxy's https URL); default: the server's own HTTP address. */
  linkBase: z
    .string()
    .refine(
      (u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol),
      'notify.linkBase is an http:// or https:// URL',
    )
    .optional(),
  /** Tries per notification, the first included; waits double from backoffMs. */
  attempts: z.number().int().min(1).max(10).default(5),
  backoffMs: z.number().int().min(10).max(60_000).default(1000),
  /** Notifications waiting to be sent; past it the oldest is dropped (and logged). */
  maxQueue: z.number().int().min(1).max(10_000).default(100),
});
export type NotifyConfig = z.infer<typeof NotifySchema>;

// The whole effective configuration of a server.
export const ConfigSchema = z
  .strictObject({
    /** The user's config file that was read (set by the loader): hidden from sandboxed tasks. */
    configFile: z.string().optional(),
    /** Absolute: each run starts claude from its own folder, where a relative path names a file of the task's tree. */
    claudeBin: z
      .string()
      .refine(isAbsolute, {
        error: (iss) =>
          `${JSON.stringify(iss.input)} is a relative path, and each run starts claude from its own folder: make it ` +
          'absolute where it is set (CLAUDE_TIERS_CLAUDE_BIN, or claudeBin in the config file)',
      })
      .optional(),
    stateDir: z.string(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    allowedRoots: z.array(z.string()).min(1),
    maxDepth: z.number().int().min(0).max(10),
    /** Bearer token for `serve --http` (config or CLAUDE_TIERS_HTTP_TOKEN, else one made at start-up). */
    httpToken: HttpToken.optional(),
    /** More bearer tokens for `serve --http`, one per person or team: each owns its tasks; an admin token sees and acts
     * on every task. */
    httpTokens: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'a token name such as "ci" or "alice"'),
          token: HttpToken,
          admin: z.boolean().default(false),
        }),
      )
      .default([])
      .refine(
        (list) => new Set(list.map((t) => t.name)).size === list.length,
        'httpTokens: every token needs its own name',
      )
      .refine(
        (list) => !list.some((t) => t.name === 'default'),
        'httpTokens: "default" is the main token\'s name; choose another',
      ),
    /** Host names (besides the bound address and localhost) that `serve --http` accepts in the Host header: the names a
     * reverse proxy forwards. */
    allowedHosts: z.array(HostName).default([]),
    /** Environment variables of the server that claude never gets (CLAUDE_TIERS_HTTP_TOKEN is always withheld). */
    secretEnv: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name such as MY_API_KEY'))
      .default([]),
    /** Prometheus metrics on a separate loopback port, without a token (besides GET /metrics of `serve --http`). */
    metrics: z
      .strictObject({
        port: z.number().int().min(0).max(65535).optional(),
        host: z.literal('127.0.0.1').default('127.0.0.1'),
      })
      .optional(),
    /** Price table per model or alias (USD per million tokens), for tier "auto" with a budget: see src/cost. */
    prices: z.record(ModelName, PriceSchema).default({}),
    /** serve --http: USD each token may spend per UTC day, by token name ("default": the main token and every token
     * without its own entry). */
    budgets: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'budgets takes token names such as "default", "ci" or "alice"'),
        z.number().positive('budgets.<token> is USD per UTC day, > 0'),
      )
      .default({}),
    /** Several servers, one queue and one task store: Redis (--redis, CLAUDE_TIERS_REDIS_URL). Without it, tasks run on
     * this server only. */
    redis: z
      .strictObject({
        url: z
          .string()
          .regex(/^rediss?:\/\/\S+$/, 'redis.url is a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379')
          .refine(
            (u) => URL.canParse(u),
            'redis.url does not parse as a URL: write redis://[user:password@]host:port[/db], with special ' +
              'characters of the password %-encoded',
          ),
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,40}$/, 'redis.prefix is a short name such as "claude-tiers"')
          .default('claude-tiers'),
        /** Events kept per task in its Redis stream (the full log stays with the worker that ran it). */
        eventCap: z.number().int().min(10).max(100_000).default(1000),
      })
      .optional(),
    /** Webhook notifications of task events (needs_input, succeeded, failed, lost), HMAC-signed; see src/notify. */
    notify: NotifySchema.optional(),
    limits: LimitsSchema,
    tiers: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'tier names are lower-case words'), TierSchema),
  })
  .refine(
    (c) =>
      (c as { limits?: { maxRunning?: unknown } } | undefined)?.limits?.maxRunning !== 0 ||
      !!(c as { redis?: unknown }).redis,
    {
      path: ['limits', 'maxRunning'],
      message:
        '0 (a front end that runs no tasks) needs a shared queue that other servers run: set --redis (or ' +
        'CLAUDE_TIERS_REDIS_URL), or raise it',
      // Checked along with the other fields' errors, so one start-up names every mistake.
      when: () => true,
    },
  );
export type Config = z.infer<typeof ConfigSchema>;
