import type { ConfigFlags } from './config/load.js';

// The parsed command line: a command, its positional words and the config flags.
export interface CliArgs {
  command: string;
  positionals: string[];
  flags: ConfigFlags;
  options: Record<string, string | boolean>;
}

const CONFIG_FLAGS = new Set(['config', 'state-dir', 'claude-bin', 'log-level', 'root', 'max-running', 'max-queue']);
const VALUE_OPTIONS = new Set([...CONFIG_FLAGS, 'http', 'tier', 'model', 'cwd', 'timeout', 'state', 'wait']);

// A small parser: `--name value`, `--name=value`, boolean `--flag`, and `--` ending options.
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
      if (eq > 0) value = arg.slice(eq + 1);
      else if (VALUE_OPTIONS.has(name)) {
        const next = argv[i + 1];
        if (next === undefined) throw new Error(`--${name} needs a value`);
        value = next;
        i++;
      }
      if (name === 'root' && typeof value === 'string') roots.push(value);
      else options[name] = value;
    } else if (arg === '-h') options.help = true;
    else if (arg === '-v') options.version = true;
    else positionals.push(arg);
  }
  const num = (name: string): number | undefined => {
    const v = options[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`--${name} needs a whole number, got ${String(v)}`);
    return n;
  };
  const str = (name: string): string | undefined => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  const flags: ConfigFlags = {
    config: str('config'),
    stateDir: str('state-dir'),
    claudeBin: str('claude-bin'),
    logLevel: str('log-level'),
    roots: roots.length ? roots : undefined,
    maxRunning: num('max-running'),
    maxQueue: num('max-queue'),
  };
  const command = positionals.shift() ?? 'serve';
  return { command, positionals, flags, options };
}
