#!/usr/bin/env node
import { parseCliArgs } from './cli-args.js';
import { ConfigError, loadConfig } from './config/load.js';
import { HELP } from './help.js';
import { reportDoctor, runDoctor } from './cli/doctor.js';
import { askCommand, killCommand, runCommand, tasksCommand } from './cli/commands.js';
import { printOut } from './cli/output.js';
import { validateTiers } from './tiers.js';
import { VERSION } from './version.js';
import { runStdioServer } from './stdio-main.js';
import { runHttpServer } from './http/serve-http.js';

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
  if (args.command === 'doctor') return reportDoctor(await runDoctor(args.flags), args.options.json === true);
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
    printOut(JSON.stringify({ file: loaded.file ?? null, config: loaded.config, source: loaded.provenance }, null, 2));
    return 0;
  }
  if (args.command === 'serve' && typeof args.options.http === 'string') return runHttpServer(loaded.config, args.options.http);
  if (args.command === 'serve') return runStdioServer(loaded.config);
  if (args.command === 'ask') return askCommand(loaded.config, args.positionals, args.options);
  if (args.command === 'run') return runCommand(loaded.config, args.positionals, args.options);
  if (args.command === 'tasks') return tasksCommand(loaded.config, args.options);
  if (args.command === 'kill') return killCommand(loaded.config, args.positionals);
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
