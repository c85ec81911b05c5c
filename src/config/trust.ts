// Where a value may come from. A project config sits in the folder an MCP client starts the server in, which may be a
// repository the user has never read: it may tune tiers and limits, never decide what runs or with which rights.

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

// A key of a project config that was not applied, and why (shown by --print-config and at start-up).
export interface IgnoredKey {
  key: string;
  file: string;
  why: string;
}

const USER_ONLY: Record<string, string> = {
  configFile: 'the loader names the file it read',
  claudeBin: 'it chooses the program that runs',
  stateDir: 'it chooses where task records, logs and the audit key are written',
  allowedRoots: 'it would widen the folders tasks may run in',
  maxDepth: 'it would allow claude-tiers to start itself recursively',
  httpToken: 'it would set the HTTP bearer token',
  httpTokens: 'it would add HTTP bearer tokens (and admins)',
  allowedHosts: 'it would widen the Host names the HTTP server accepts',
  secretEnv: "the list of withheld variables is the user's",
  metrics: 'it opens a listening port without a token',
  redis: "it decides which shared queue runs this server's tasks and where their records go",
  budgets: 'it sets how many dollars each HTTP token may spend a day',
  notify: 'it sends task events (prompts, requests) to an address, and makes approval links',
  prices: 'it decides what tier "auto" thinks a model costs (a price of 0 always picks the strongest model)',
};

const USER_ONLY_TIER: Record<string, string> = {
  env: 'it adds environment to claude (e.g. NODE_OPTIONS runs code)',
  dangerouslySkipPermissions: "it turns claude's permission checks off",
  permissionMode: 'it changes what claude may do without asking (bypassPermissions skips every check)',
  allowedTools: 'it widens the tools claude may use',
  disallowedTools: 'it changes the tools claude must not use',
  mcpConfig: 'an MCP config names programs that run',
  contextFiles: 'it sends files from anywhere on disk to the model',
  permissionPrompts: 'it changes who answers permission requests',
  sandbox: 'it changes what the sandbox lets through (network, writes)',
  fallbackTier: 'it lets a tier fall back to one with more tools',
  isolation: "it decides whether a task works in the user's tree",
};

// Keys that would reach an object's prototype when merged: never valid in a config.
export const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

// Finds the first key of a parsed JSON value that would reach a prototype, as a dotted path.
export function prototypeKey(value: unknown, path = ''): string | undefined {
  if (Array.isArray(value)) return value.map((v, i) => prototypeKey(v, `${path}[${i}]`)).find(Boolean);
  if (!isObject(value)) return undefined;
  for (const [k, v] of Object.entries(value)) {
    const here = path ? `${path}.${k}` : k;
    if (FORBIDDEN_KEYS.has(k)) return here;
    const deeper = prototypeKey(v, here);
    if (deeper) return deeper;
  }
  return undefined;
}

// Removes from a project config every key only the user's own config may set; returns what was removed and why.
export function restrictProjectConfig(layer: Json, file: string): { layer: Json; ignored: IgnoredKey[] } {
  const ignored: IgnoredKey[] = [];
  const out: Json = {};
  for (const [key, value] of Object.entries(layer)) {
    const why = USER_ONLY[key];
    if (why) ignored.push({ key, file, why });
    else if (key === 'tiers' && isObject(value)) out.tiers = restrictTiers(value, file, ignored);
    else out[key] = value;
  }
  return { layer: out, ignored };
}

function restrictTiers(tiers: Json, file: string, ignored: IgnoredKey[]): Json {
  const out: Json = {};
  for (const [name, tier] of Object.entries(tiers)) {
    if (!isObject(tier)) {
      out[name] = tier;
      continue;
    }
    const kept: Json = {};
    for (const [key, value] of Object.entries(tier)) {
      const why = USER_ONLY_TIER[key];
      if (why) ignored.push({ key: `tiers.${name}.${key}`, file, why });
      else kept[key] = value;
    }
    out[name] = kept;
  }
  return out;
}

// The one stderr line that says what a project config tried to set and where such settings belong.
export function ignoredWarning(ignored: IgnoredKey[]): string | undefined {
  if (!ignored.length) return undefined;
  return (
    `claude-tiers: warning: ${ignored[0]!.file} is a project config, ` +
    `so ${ignored.map((i) => i.key).join(', ')} ${ignored.length === 1 ? 'was' : 'were'} ignored ` +
    '(only your own config may set them: --config FILE, $CLAUDE_TIERS_CONFIG or ' +
    '$XDG_CONFIG_HOME/claude-tiers/config.json; --print-config says why)'
  );
}

// The one stderr line for a project config left out whole: which file, what is wrong in it, and how to fix it.
export function rejectedWarning(file: string, problem: string): string {
  return (
    `claude-tiers: warning: ${file} is a project config with a problem, so all of it was ignored: ${problem}. ` +
    'Fix or remove that key in the file (a project config is never fatal; your own config is: --config FILE, ' +
    '$CLAUDE_TIERS_CONFIG or $XDG_CONFIG_HOME/claude-tiers/config.json)'
  );
}
