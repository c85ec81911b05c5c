import type { ConfigFlags } from './config/load.js';
import { TASK_STATES } from './tasks/types.js';

// The parsed command line: a command, its positional words and the config flags.
export interface CliArgs {
  command: string;
  positionals: string[];
  flags: ConfigFlags;
  options: Record<string, string | boolean>;
}

// A command line that cannot be run as typed; its message is one line that names the fix.
export class UsageError extends Error {
  override name = 'UsageError';
}

const CONFIG_FLAGS = [
  'config',
  'state-dir',
  'claude-bin',
  'log-level',
  'root',
  'max-running',
  'max-queue',
  'metrics-port',
  'redis',
];
const GLOBAL_OPTIONS = ['help', 'version', 'print-config', ...CONFIG_FLAGS];
// Options each command understands besides the global ones; anything else is refused, never passed on as text.
const COMMAND_OPTIONS: Record<string, string[]> = {
  serve: ['http', 'board-port'],
  ask: ['tier', 'model', 'json'],
  run: ['tier', 'json'],
  tasks: ['watch', 'state', 'json'],
  kill: [],
  compare: ['tiers', 'prompts', 'runs', 'out'],
  doctor: ['json'],
  answer: ['message', 'request'],
  merge: ['squash', 'into', 'allow-tool-config'],
  setup: ['write'],
  help: [],
  version: [],
};
const VALUE_OPTIONS = new Set([
  ...CONFIG_FLAGS,
  'http',
  'board-port',
  'tier',
  'model',
  'state',
  'tiers',
  'prompts',
  'runs',
  'out',
  'message',
  'into',
  'request',
]);
export const SETUP_TARGETS = ['claude-code', 'claude-desktop', 'codex'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const NO_ARGS = new Set(['serve', 'tasks', 'doctor', 'help', 'version', 'compare']);

const list = (names: string[]) => names.map((n) => `--${n}`).join(', ');

function checkEnum(name: string, value: string, valid: string[], several = false): void {
  const bad = (several ? value.split(',') : [value]).filter((v) => !valid.includes(v));
  if (bad.length)
    throw new UsageError(
      `--${name}: unknown value ${bad.map((b) => JSON.stringify(b)).join(', ')}; ` +
        `valid: ${valid.join(', ')}${several ? ' (comma-separated)' : ''}`,
    );
}

// A small parser: `--name value`, `--name=value`, boolean `--flag`, and `--` ending options; unknown options and bad
// values are refused.
export function parseCliArgs(argv: string[]): CliArgs {
  const positionals: string[] = [];
  const options: Record<string, string | boolean> = {};
  const roots: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      let value: string | boolean = true;
      if (eq > 0) {
        if (!VALUE_OPTIONS.has(name) && [...GLOBAL_OPTIONS, ...Object.values(COMMAND_OPTIONS).flat()].includes(name))
          throw new UsageError(`--${name} takes no value (got ${arg})`);
        value = arg.slice(eq + 1);
      } else if (VALUE_OPTIONS.has(name)) {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--'))
          throw new UsageError(`--${name} needs a value, e.g. --${name}=VALUE`);
        value = next;
        i++;
      }
      if (name === 'root' && typeof value === 'string') roots.push(value);
      else options[name] = value;
    } else if (arg === '-h') options.help = true;
    else if (arg === '-v') options.version = true;
    else if (arg.startsWith('-') && arg !== '-')
      throw new UsageError(
        `unknown option ${arg}; a prompt that starts with "-" goes after --, e.g. claude-tiers ask -- "${arg} ..."`,
      );
    else positionals.push(arg);
  }
  const command = positionals.shift() ?? 'serve';
  const own = COMMAND_OPTIONS[command];
  if (!own) throw new UsageError(`unknown command "${command}"; commands: ${Object.keys(COMMAND_OPTIONS).join(', ')}`);
  const valid = [...own, ...GLOBAL_OPTIONS];
  for (const name of Object.keys(options)) {
    if (!valid.includes(name))
      throw new UsageError(`unknown option --${name} for ${command}; valid options: ${list(valid)}`);
  }
  if (NO_ARGS.has(command) && positionals.length)
    throw new UsageError(
      `${command} takes no arguments (got ${JSON.stringify(positionals.join(' '))}); options start with --`,
    );
  if (command === 'kill' && positionals.length > 1)
    throw new UsageError(`kill takes one task id (got ${positionals.length} words)`);
  if (command === 'merge' && positionals.length !== 1) {
    throw new UsageError(
      `merge takes one task id, e.g. claude-tiers merge t_... [--squash] [--into main] ` +
        `(got ${positionals.length} words)`,
    );
  }
  if (command === 'answer' && (positionals.length !== 2 || !['allow', 'deny'].includes(positionals[1]!))) {
    const got = JSON.stringify(positionals.join(' '));
    throw new UsageError(
      `answer takes a task id and allow or deny, e.g. claude-tiers answer t_... deny --message "why" (got ${got})`,
    );
  }
  if (command === 'setup' && (positionals.length !== 1 || !SETUP_TARGETS.includes(positionals[0]!))) {
    const got = JSON.stringify(positionals.join(' '));
    throw new UsageError(
      `setup takes one client: ${SETUP_TARGETS.join(', ')} (got ${got}); add --write to change its config`,
    );
  }
  if (typeof options.state === 'string') checkEnum('state', options.state, [...TASK_STATES], true);
  if (options['board-port'] !== undefined) {
    if (typeof options.http === 'string') {
      throw new UsageError('--board-port is for stdio servers; with --http the board is served on the same port, at /');
    }
    const p = Number(options['board-port']);
    if (!Number.isInteger(p) || p < 0 || p > 65535) {
      const got = String(options['board-port']);
      throw new UsageError(`--board-port needs a port number 0-65535 (0 picks a free one), got ${got}`);
    }
  }
  if (typeof options['log-level'] === 'string') checkEnum('log-level', options['log-level'], LOG_LEVELS);
  const num = (name: string): number | undefined => {
    const v = options[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new UsageError(`--${name} needs a whole number, got ${String(v)}`);
    return n;
  };
  const str = (name: string): string | undefined =>
    typeof options[name] === 'string' ? (options[name] as string) : undefined;
  const flags: ConfigFlags = {
    config: str('config'),
    stateDir: str('state-dir'),
    claudeBin: str('claude-bin'),
    logLevel: str('log-level'),
    roots: roots.length ? roots : undefined,
    maxRunning: num('max-running'),
    maxQueue: num('max-queue'),
    metricsPort: num('metrics-port'),
    redis: str('redis'),
  };
  return { command, positionals, flags, options };
}
