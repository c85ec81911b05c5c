#!/usr/bin/env node
import { parseCliArgs } from './cli-args.js';
import { ConfigError, loadConfig } from './config/load.js';
import { HELP } from './help.js';
import { validateTiers } from './tiers.js';
import { VERSION } from './version.js';

// Each command loads only its own modules (start-up time of the stdio server is a benchmark target).
const cli = () => import('./cli/commands.js');

// The claude-tiers command: serve MCP on stdio by default; a few informational flags.
async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    process.stderr.write(`claude-tiers: ${(err as Error).message}\nSee claude-tiers --help.\n`);
    return 2;
  }
  if (args.options.help || args.command === 'help') {
    process.stderr.write(HELP);
    return 0;
  }
  if (args.options.version || args.command === 'version') {
    process.stderr.write(`claude-tiers ${VERSION}\n`);
    return 0;
  }
  if (args.command === 'doctor') {
    const { reportDoctor, runDoctor } = await import('./cli/doctor.js');
    return reportDoctor(await runDoctor(args.flags), args.options.json === true);
  }
  let loaded;
  try {
    loaded = loadConfig({ flags: args.flags });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`claude-tiers: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  try {
    validateTiers(loaded.config);
  } catch (err) {
    process.stderr.write(`claude-tiers: ${loaded.file ? `config file ${loaded.file}: ` : ''}${(err as Error).message}\n`);
    return 2;
  }
  if (args.options['print-config']) {
    const { printOut } = await import('./cli/output.js');
    printOut(JSON.stringify({ file: loaded.file ?? null, config: loaded.config, source: loaded.provenance }, null, 2));
    return 0;
  }
  if (args.command === 'serve' && typeof args.options.http === 'string') return (await import('./http/serve-http.js')).runHttpServer(loaded.config, args.options.http);
  if (args.command === 'serve') return (await import('./stdio-main.js')).runStdioServer(loaded.config);
  if (args.command === 'ask') return (await cli()).askCommand(loaded.config, args.positionals, args.options);
  if (args.command === 'run') return (await cli()).runCommand(loaded.config, args.positionals, args.options);
  if (args.command === 'tasks') return (await cli()).tasksCommand(loaded.config, args.options);
  if (args.command === 'kill') return (await cli()).killCommand(loaded.config, args.positionals);
  process.stderr.write(`claude-tiers: unknown command "${args.command}"\nSee claude-tiers --help.\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`claude-tiers: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
