import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { defaultConfig } from './defaults.js';
import { ConfigSchema, HTTP_TOKEN_MIN, HttpToken, type Config } from './schema.js';
import { FORBIDDEN_KEYS, prototypeKey, restrictProjectConfig, type IgnoredKey } from './trust.js';

export type Provenance = Record<string, string>;

// A config problem that must stop start-up with a message naming the file and the field.
export class ConfigError extends Error {
  override name = 'ConfigError';
}

// The effective config plus where each value came from (for --print-config).
export interface LoadedConfig {
  config: Config;
  provenance: Provenance;
  /** The user's own config file, trusted. */
  file?: string;
  /** ./claude-tiers.config.json of the working directory, restricted to keys that decide nothing about trust. */
  projectFile?: string;
  ignored: IgnoredKey[];
  /** Why the project config was left out whole (unreadable, not JSON, a key unknown or invalid): a warning. */
  projectRejected?: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

// A layer is any plain object: the typed defaults as well as parsed JSON.
function mergeInto(target: Json, layer: object, source: string, provenance: Provenance, prefix = ''): void {
  const entries: Array<[string, unknown]> = Object.entries(layer);
  for (const [key, value] of entries) {
    const path = prefix ? `${prefix}.${key}` : key;
    const inner = target[key];
    if (isObject(value) && isObject(inner)) {
      mergeInto(inner, value, source, provenance, path);
    } else {
      target[key] = value;
      markAll(value, path, source, provenance);
    }
  }
}

// A value set at path replaces what was under it: its old sources go, then each of its leaves gets this one.
function markAll(value: unknown, path: string, source: string, provenance: Provenance): void {
  for (const k of Object.keys(provenance)) if (k === path || k.startsWith(`${path}.`)) delete provenance[k];
  markLeaves(value, path, source, provenance);
}

function markLeaves(value: unknown, path: string, source: string, provenance: Provenance): void {
  if (isObject(value)) for (const [k, v] of Object.entries(value)) markLeaves(v, `${path}.${k}`, source, provenance);
  else provenance[path] = source;
}

// The user's own config: --config, else $CLAUDE_TIERS_CONFIG, else $XDG_CONFIG_HOME/claude-tiers/config.json (if it
// exists).
function userConfigPath(env: NodeJS.ProcessEnv, cwd: string, flag?: string): string | undefined {
  if (flag) return resolve(cwd, flag);
  if (env.CLAUDE_TIERS_CONFIG) return resolve(cwd, env.CLAUDE_TIERS_CONFIG);
  const xdg = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : undefined);
  const user = xdg ? join(xdg, 'claude-tiers', 'config.json') : undefined;
  return user && existsSync(user) ? user : undefined;
}

// A project's config in the working directory; read only when no config was named explicitly, and restricted (see
// trust.ts).
function projectConfigPath(env: NodeJS.ProcessEnv, cwd: string, flag?: string): string | undefined {
  if (flag || env.CLAUDE_TIERS_CONFIG) return undefined;
  const local = join(cwd, 'claude-tiers.config.json');
  return existsSync(local) ? local : undefined;
}

function readConfigFile(file: string): Json {
  let text: string;
  try {
    // A byte order mark (editors on Windows write one) is not part of the JSON.
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    throw new ConfigError(`config file ${file}: cannot be read (${(err as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(parsed)) throw new ConfigError(`config file ${file}: expected a JSON object at the top level`);
  const bad = prototypeKey(parsed);
  if (bad)
    throw new ConfigError(
      `config file ${file}: the key ${bad} is not allowed (${[...FORBIDDEN_KEYS].join(', ')} are never ` +
        `config keys); remove it`,
    );
  const tiers = parsed.tiers;
  if (isObject(tiers)) {
    // Relative paths in a tier are relative to the config file that names them.
    for (const tier of Object.values(tiers)) {
      if (isObject(tier) && typeof tier.mcpConfig === 'string' && !isAbsolute(tier.mcpConfig))
        tier.mcpConfig = resolve(dirname(file), tier.mcpConfig);
      if (isObject(tier) && Array.isArray(tier.contextFiles))
        tier.contextFiles = tier.contextFiles.map((f) =>
          typeof f === 'string' && !isAbsolute(f) ? resolve(dirname(file), f) : f,
        );
    }
  }
  return parsed;
}

const intFrom = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ConfigError(`${name}=${JSON.stringify(v)}: expected a whole number`);
  return n;
};

// The same rule as the config's httpToken, as one line: an empty or short token would make the HTTP server easy to
// enter.
function checkEnvToken(token: string): string {
  const parsed = HttpToken.safeParse(token);
  if (parsed.success) return token;
  const what =
    token.length === 0
      ? 'is empty'
      : token.length < HTTP_TOKEN_MIN
        ? `is ${token.length} characters long`
        : 'contains spaces or non-ASCII characters';
  throw new ConfigError(
    `CLAUDE_TIERS_HTTP_TOKEN ${what}: the HTTP bearer token needs at least ${HTTP_TOKEN_MIN} printable ` +
      'characters without spaces; set a longer one (e.g. CLAUDE_TIERS_HTTP_TOKEN=$(openssl rand -base64 24)) ' +
      'or unset it to have one generated at start-up',
  );
}

function envLayer(env: NodeJS.ProcessEnv, cwd: string): Json {
  const layer: Json = {};
  if (env.CLAUDE_TIERS_CLAUDE_BIN) layer.claudeBin = env.CLAUDE_TIERS_CLAUDE_BIN;
  if (env.CLAUDE_TIERS_STATE_DIR) layer.stateDir = resolve(cwd, env.CLAUDE_TIERS_STATE_DIR);
  if (env.CLAUDE_TIERS_LOG_LEVEL) layer.logLevel = env.CLAUDE_TIERS_LOG_LEVEL;
  if (env.CLAUDE_TIERS_ROOTS)
    layer.allowedRoots = env.CLAUDE_TIERS_ROOTS.split(':')
      .filter(Boolean)
      .map((p) => resolve(cwd, p));
  const limits: Json = {};
  if (env.CLAUDE_TIERS_MAX_RUNNING)
    limits.maxRunning = intFrom('CLAUDE_TIERS_MAX_RUNNING', env.CLAUDE_TIERS_MAX_RUNNING);
  if (env.CLAUDE_TIERS_MAX_QUEUE) limits.maxQueue = intFrom('CLAUDE_TIERS_MAX_QUEUE', env.CLAUDE_TIERS_MAX_QUEUE);
  if (Object.keys(limits).length) layer.limits = limits;
  if (env.CLAUDE_TIERS_HTTP_TOKEN !== undefined) layer.httpToken = checkEnvToken(env.CLAUDE_TIERS_HTTP_TOKEN);
  if (env.CLAUDE_TIERS_REDIS_URL) layer.redis = { url: env.CLAUDE_TIERS_REDIS_URL };
  if (env.CLAUDE_TIERS_WARM_SPARES) {
    // The speed tier's spares: this many, fixed; 0 turns every tier's spares off (no memory for them).
    const n = intFrom('CLAUDE_TIERS_WARM_SPARES', env.CLAUDE_TIERS_WARM_SPARES);
    layer.tiers = { speed: { warmSpares: n, minSpares: n, maxSpares: n } };
    if (n === 0) layer.limits = { ...(layer.limits as object | undefined), spareMemoryMb: 0 };
  }
  return layer;
}

// Command-line overrides, already parsed by the entry point.
export interface ConfigFlags {
  config?: string;
  stateDir?: string;
  claudeBin?: string;
  logLevel?: string;
  roots?: string[];
  maxRunning?: number;
  maxQueue?: number;
  metricsPort?: number;
  redis?: string;
}

function flagLayer(flags: ConfigFlags, cwd: string): Json {
  const layer: Json = {};
  if (flags.stateDir) layer.stateDir = resolve(cwd, flags.stateDir);
  // Given on the command line, a relative path is the invoking shell's, as --config is (an env or file value must be
  // absolute: the schema refuses it, naming where it came from).
  if (flags.claudeBin) layer.claudeBin = resolve(cwd, flags.claudeBin);
  if (flags.logLevel) layer.logLevel = flags.logLevel;
  if (flags.roots?.length) layer.allowedRoots = flags.roots.map((r) => resolve(cwd, r));
  if (flags.metricsPort !== undefined) layer.metrics = { port: flags.metricsPort };
  if (flags.redis) layer.redis = { url: flags.redis };
  const limits: Json = {};
  if (flags.maxRunning !== undefined) limits.maxRunning = flags.maxRunning;
  if (flags.maxQueue !== undefined) limits.maxQueue = flags.maxQueue;
  if (Object.keys(limits).length) layer.limits = limits;
  return layer;
}

// defaults <- the user's config file <- a project's config (restricted) <- environment <- flags, validated once; errors
// name the file and field path. A project's config is never fatal: when it does not read, parse or validate, it is left
// out whole (projectRejected says why).
export function loadConfig(options: { env?: NodeJS.ProcessEnv; cwd?: string; flags?: ConfigFlags } = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const flags = options.flags ?? {};
  const file = userConfigPath(env, cwd, flags.config);
  const namedBy = flags.config ? '--config' : 'CLAUDE_TIERS_CONFIG';
  if (file && !existsSync(file)) throw new ConfigError(`config file ${file}: does not exist (named by ${namedBy})`);
  const userLayer = file ? readConfigFile(file) : undefined;
  const projectFile = projectConfigPath(env, cwd, flags.config);
  let project: { layer: Json; ignored: IgnoredKey[] } | undefined;
  let projectRejected: string | undefined;
  if (projectFile) {
    try {
      project = restrictProjectConfig(readConfigFile(projectFile), projectFile);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      projectRejected = err.message.replace(`config file ${projectFile}: `, '');
    }
  }
  const layered = (projectLayer: Json | undefined) => {
    const provenance: Provenance = {};
    const merged: Json = {};
    mergeInto(merged, defaultConfig(env, cwd), 'default', provenance);
    if (file && userLayer) mergeInto(merged, structuredClone(userLayer), `file ${file}`, provenance);
    if (projectLayer) mergeInto(merged, structuredClone(projectLayer), `project file ${projectFile}`, provenance);
    mergeInto(merged, envLayer(env, cwd), 'env', provenance);
    mergeInto(merged, flagLayer(flags, cwd), 'flag', provenance);
    if (file) mergeInto(merged, { configFile: file }, 'loader', provenance);
    // Parsed once per start: zod's compiled fast path (jit) would cost more to build than it saves here.
    return { merged, provenance, parsed: ConfigSchema.safeParse(merged, { jitless: true }) };
  };
  let built = layered(project?.layer);
  if (!built.parsed.success && project) {
    // The config is valid without the project's file: the problem is that file's.
    const without = layered(undefined);
    if (without.parsed.success) {
      projectRejected = issueLines(built.parsed.error.issues, built.provenance).join('; ');
      built = without;
    }
  }
  if (projectRejected) project = undefined;
  const { provenance, parsed } = built;
  if (!parsed.success) {
    const lines = issueLines(parsed.error.issues, provenance);
    if (lines.length === 1) throw new ConfigError(`invalid configuration: ${lines[0]}`);
    throw new ConfigError(`invalid configuration:\n${lines.map((l) => `  - ${l}`).join('\n')}`);
  }
  const config = parsed.data;
  for (const name of ['speed', 'comprehensive']) {
    if (!Object.hasOwn(config.tiers, name))
      throw new ConfigError(`tiers.${name}: the built-in tier "${name}" cannot be removed`);
  }
  for (const [name, tier] of Object.entries(config.tiers)) {
    if (tier.fallbackTier && !Object.hasOwn(config.tiers, tier.fallbackTier)) {
      throw new ConfigError(
        `tiers.${name}.fallbackTier: unknown tier "${tier.fallbackTier}"; known ` +
          `tiers: ${Object.keys(config.tiers).join(', ')}`,
      );
    }
  }
  const rejected = projectRejected ? { projectRejected } : {};
  return { config, provenance, file, projectFile, ignored: project?.ignored ?? [], ...rejected };
}

// One line per problem, naming the field (an unknown key by its full path) and the file it came from.
type Issue = { code?: string; path: PropertyKey[]; message: string; keys?: string[] };
function issueLines(issues: readonly Issue[], provenance: Provenance): string[] {
  const at = (path: PropertyKey[]) => path.map(String).join('.') || '(root)';
  return issues.flatMap((i) => {
    if (i.code === 'unrecognized_keys' && i.keys?.length) {
      return i.keys.map((k) => `${at([...i.path, k])}: not a config key${sourceOf(provenance, [...i.path, k])}`);
    }
    return [`${at(i.path)}: ${i.message}${sourceOf(provenance, i.path)}`];
  });
}

function sourceOf(provenance: Provenance, path: PropertyKey[]): string {
  for (let n = path.length; n > 0; n--) {
    const src = provenance[path.slice(0, n).join('.')];
    if (src) return ` (from ${src})`;
  }
  return '';
}
