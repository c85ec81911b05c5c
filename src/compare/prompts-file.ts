import { readFileSync } from 'node:fs';
import { ToolError } from '../errors.js';

// Limits of a comparison started from the command line.
export const CLI_LIMITS = { maxPrompts: 500, maxRuns: 20 };

// The prompts of a JSONL file: each line is {"prompt": "..."} or a JSON string or plain text; blank lines and
// lines starting with # are skipped. A bad line is one error that names the file and the line.
export function parsePrompts(text: string, file = 'prompts'): string[] {
  const prompts: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    let prompt: unknown = line;
    if (line.startsWith('{') || line.startsWith('"')) {
      try {
        const value: unknown = JSON.parse(line);
        prompt = typeof value === 'string' ? value : (value as { prompt?: unknown }).prompt;
      } catch (err) {
        throw new ToolError(
          `--prompts: ${file} line ${i + 1} is not valid JSON (${(err as Error).message}); write {"prompt": ` +
            `"..."} or plain text`,
        );
      }
    }
    if (typeof prompt !== 'string' || !prompt.trim())
      throw new ToolError(
        `--prompts: ${file} line ${i + 1} has no prompt; write {"prompt": "..."} (a non-empty string)`,
      );
    prompts.push(prompt);
  });
  if (prompts.length === 0)
    throw new ToolError(`--prompts: ${file} holds no prompts; write one {"prompt": "..."} per line`);
  if (prompts.length > CLI_LIMITS.maxPrompts)
    throw new ToolError(`--prompts: ${file} holds ${prompts.length} prompts; at most ${CLI_LIMITS.maxPrompts}`);
  return prompts;
}

// Reads and parses a prompts file; a missing or unreadable file is one error naming it.
export function readPrompts(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ToolError(
      `--prompts: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  return parsePrompts(text, file);
}

// Checks the two tiers: two different configured tiers.
export function checkTiers(tiers: string[], configured: string[], field = '--tiers'): [string, string] {
  if (tiers.length !== 2 || tiers.some((t) => !t))
    throw new ToolError(
      `${field}: give exactly two tiers, e.g. speed,comprehensive (got ${JSON.stringify(tiers.join(','))})`,
    );
  const unknown = tiers.filter((t) => !configured.includes(t));
  if (unknown.length)
    throw new ToolError(
      `${field}: unknown tier ${unknown.map((t) => JSON.stringify(t)).join(', ')}; configured ` +
        `tiers: ${configured.join(', ')}`,
    );
  if (tiers[0] === tiers[1]) throw new ToolError(`${field}: the two tiers must differ (got ${tiers[0]} twice)`);
  return [tiers[0]!, tiers[1]!];
}

// Checks --runs: a whole number from 1 to max.
export function checkRuns(value: string | number | undefined, max: number, field = '--runs'): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new ToolError(`${field}: must be a whole number from 1 to ${max} (got ${String(value)})`);
  return n;
}
