import { mkdirSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { createEngine } from '../create-engine.js';
import { ToolError } from '../errors.js';
import { createLogger } from '../log.js';
import { printOut } from '../cli/output.js';
import { oneLine, progressBar } from './progress-bar.js';
import { plural } from './table.js';
import { checkRuns, checkTiers, CLI_LIMITS, readPrompts } from './prompts-file.js';
import { runCompare } from './run-compare.js';
import { compareTable } from './table.js';
import { defaultOutDir, writeReport } from './write-report.js';

type Opts = Record<string, string | boolean>;

const str = (opts: Opts, name: string): string | undefined =>
  typeof opts[name] === 'string' ? (opts[name] as string) : undefined;

// The checked plan of a `compare` command line; a bad option is one ToolError naming it.
function planFrom(config: Config, opts: Opts) {
  const tiersText = str(opts, 'tiers');
  if (!tiersText)
    throw new ToolError(
      '--tiers is required: claude-tiers compare --tiers speed,comprehensive --prompts prompts.jsonl',
    );
  const tiers = checkTiers(
    tiersText.split(',').map((t) => t.trim()),
    Object.keys(config.tiers),
  );
  const file = str(opts, 'prompts');
  if (!file) throw new ToolError('--prompts is required: a JSONL file with one {"prompt": "..."} per line');
  const runs = checkRuns(str(opts, 'runs'), CLI_LIMITS.maxRuns);
  const prompts = readPrompts(file);
  const out = str(opts, 'out') ?? defaultOutDir(process.cwd());
  try {
    mkdirSync(out, { recursive: true });
  } catch (err) {
    throw new ToolError(
      `--out: cannot create ${out} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  return { plan: { tiers, prompts, runs }, out };
}

// `claude-tiers compare --tiers a,b --prompts FILE [--runs N] [--out DIR]`: every prompt through both tiers as deep
// tasks, interleaved; a progress bar on stderr, the table on stdout, compare.json and report.html in the out folder.
// Ctrl-C stops it: the running task is killed and the runs done so far are reported.
export async function compareCommand(config: Config, opts: Opts): Promise<number> {
  let checked;
  try {
    checked = planFrom(config, opts);
  } catch (err) {
    process.stderr.write(`claude-tiers: ${(err as Error).message}\n`);
    return 2;
  }
  const level = config.logLevel === 'info' ? 'warn' : config.logLevel;
  const engine = await createEngine({ ...config, logLevel: level }, createLogger(level));
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const bar = progressBar(process.stderr);
  try {
    const result = await runCompare(engine.registry, checked.plan, {
      signal: controller.signal,
      clientId: 'cli compare',
      onProgress: (p) => bar.update(p),
    });
    bar.end();
    const paths = writeReport(checked.out, result);
    printOut(compareTable(result.summary));
    process.stderr.write(`${result.aborted ? 'stopped early; ' : ''}wrote ${paths.json} and ${paths.html}\n`);
    if (result.aborted) return 130;
    const failed = result.results.filter((r) => !r.success);
    // Nothing was measured when every run failed: that is an error, with the first reason (each is in the report).
    if (failed.length > 0 && failed.length === result.results.length) {
      const first = oneLine(failed[0]!.error ?? failed[0]!.state);
      const count = plural(failed.length, 'run');
      process.stderr.write(`claude-tiers: every run failed (${count}); the first reason: ${first}\n`);
      return 1;
    }
    return 0;
  } catch (err) {
    bar.end();
    process.stderr.write(`claude-tiers: ${(err as Error).message.replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    await engine.dispose('compare finished');
  }
}
