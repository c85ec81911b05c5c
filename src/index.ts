#!/usr/bin/env node
import { parseCliArgs, UsageError } from './cli-args.js';
import { ConfigError, loadConfig, type ConfigFlags, type LoadedConfig } from './config/load.js';
import { ignoredWarning, rejectedWarning } from './config/trust.js';
import { helpText } from './help.js';
import { withholdSecrets } from './secrets.js';
import { prepareStateDir } from './state-dir.js';
import { validateTiers } from './tiers.js';
import { VERSION } from './version.js';

// Each command loads only its own modules (start-up time of the stdio server is a benchmark target).
const cli = () => import('./cli/commands.js');
const say = (line: string) => process.stderr.write(`claude-tiers: ${line}\n`);
// --board-port as a number (parseCliArgs already checked it).
const boardPortOf = (v: string | boolean | undefined): number | undefined =>
  typeof v === 'string' ? Number(v) : undefined;

// Loads and checks the config; undefined after one line on stderr when it cannot be used.
function configOrNothing(flags: ConfigFlags): LoadedConfig | undefined {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig({ flags });
  } catch (err) {
    if (err instanceof ConfigError) return void say(err.message);
    throw err;
  }
  try {
    validateTiers(loaded.config);
  } catch (err) {
    return void say(`${loaded.file ? `config file ${loaded.file}: ` : ''}${(err as Error).message}`);
  }
  return loaded;
}

// The claude-tiers command: serve MCP on stdio by default; a few informational flags.
async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    say(`${err.message} (see claude-tiers --help)`);
    return 2;
  }
  if (args.options.help || args.command === 'help') {
    process.stdout.write(helpText());
    return 0;
  }
  if (args.options.version || args.command === 'version') {
    process.stdout.write(`claude-tiers ${VERSION}\n`);
    return 0;
  }
  if (args.command === 'doctor') {
    const { reportDoctor, runDoctor } = await import('./cli/doctor.js');
    return reportDoctor(await runDoctor(args.flags), args.options.json === true);
  }
  if (args.command === 'setup')
    return (await import('./cli/setup.js')).setupCommand(args.positionals[0]!, args.options.write === true);
  const loaded = configOrNothing(args.flags);
  if (!loaded) return 2;
  const { projectRejected, projectFile } = loaded;
  const rejected = projectRejected && projectFile ? rejectedWarning(projectFile, projectRejected) : undefined;
  const warning = rejected ?? ignoredWarning(loaded.ignored);
  if (warning) process.stderr.write(`${warning}\n`);
  // The config has read the token and named the secrets: from here on no child process can inherit them.
  withholdSecrets(process.env, loaded.config.secretEnv);
  if (args.options['print-config']) return (await import('./cli/print-config.js')).printConfig(loaded);
  const { config } = loaded;
  try {
    const modeProblem = prepareStateDir(config.stateDir);
    if (modeProblem) say(`warning: ${modeProblem}`);
  } catch (err) {
    say(
      `state dir ${config.stateDir} cannot be used (${(err as Error).message}); set --state-dir or ` +
        `CLAUDE_TIERS_STATE_DIR to a folder you can write`,
    );
    return 2;
  }
  if (args.command === 'serve' && typeof args.options.http === 'string')
    return (await import('./mcp/http/serve-http.js')).runHttpServer(config, args.options.http);
  const boardPort = boardPortOf(args.options['board-port']);
  if (args.command === 'serve') return (await import('./mcp/stdio-main.js')).runStdioServer(config, boardPort);
  if (args.command === 'ask') return (await cli()).askCommand(config, args.positionals, args.options);
  if (args.command === 'run') return (await cli()).runCommand(config, args.positionals, args.options);
  if (args.command === 'tasks') return (await cli()).tasksCommand(config, args.options);
  if (args.command === 'kill') return (await cli()).killCommand(config, args.positionals);
  if (args.command === 'merge') return (await cli()).mergeCommand(config, args.positionals, args.options);
  if (args.command === 'answer') return (await cli()).answerCommand(config, args.positionals, args.options);
  if (args.command === 'compare')
    return (await import('./compare/compare-command.js')).compareCommand(config, args.options);
  say(`unknown command "${args.command}" (see claude-tiers --help)`);
  return 2;
}

// One line for anything unexpected too; the stack only when asked for (CLAUDE_TIERS_LOG_LEVEL=debug).
main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exit(code);
  },
  (err: unknown) => {
    const debug = /^(debug|trace)$/.test(process.env.CLAUDE_TIERS_LOG_LEVEL ?? '');
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    say(
      debug && err instanceof Error
        ? (err.stack ?? message)
        : `${message} (set CLAUDE_TIERS_LOG_LEVEL=debug for details)`,
    );
    process.exitCode = 1;
  },
);
