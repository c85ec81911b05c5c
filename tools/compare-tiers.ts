import { z } from 'zod';
import type { CompareStatus, Limits } from '../src/engine.js';
import { defineTool } from './define-tool.js';
import { promptField, TierField, waitField } from './fields.js';

const CompareIdField = z
  .string({ error: (i) => (i.input === undefined ? 'compare_id is required: pass the id compare_tiers returned' : 'compare_id must be a string') })
  .regex(/^c_[a-f0-9]{6,32}$/, 'compare_id must look like "c_..." as returned by compare_tiers');

// The status as a few lines: progress, then the table and the report files once it is done.
function statusText(s: CompareStatus): string {
  const head = `${s.compare_id}: ${s.tiers[0]} vs ${s.tiers[1]} · ${s.state} · ${s.done}/${s.total} runs`;
  if (s.state === 'running') return `${head}\nfollow it with compare_status { compare_id: "${s.compare_id}", wait_s: 60 }`;
  const lines = [head];
  if (s.error) lines.push(`error: ${s.error}`);
  if (s.table) lines.push('', s.table);
  if (s.json_path) lines.push('', `json: ${s.json_path}`, `html: ${s.html_path}`);
  return lines.join('\n');
}

// Starts an A/B comparison of two tiers in the background and returns its compare_id at once.
export const compareTiersTool = (limits: Limits) =>
  defineTool({
    name: 'compare_tiers',
    title: 'Compare two tiers (A/B)',
    description:
      'Run the same prompts through two tiers as deep tasks, interleaved (a, b, a, b…), `runs` times each, and compare success rate, latency p50/p95, ' +
      'time to first event, cost, turns and output tokens (each with the ratio b/a). It can take minutes: it returns a compare_id at once; ' +
      'compare_status follows it and, when done, gives the table and the paths of compare.json and a self-contained report.html.',
    inputSchema: z.strictObject({
      tiers: z
        .array(TierField, { error: 'tiers must be an array of two tier names, e.g. ["speed", "comprehensive"]' })
        .length(2, 'tiers takes exactly two tier names, e.g. ["speed", "comprehensive"]')
        .describe('The two tiers: a (the baseline) and b.'),
      prompts: z
        .array(promptField(limits.maxPromptChars), { error: 'prompts must be an array of strings' })
        .min(1, 'prompts must hold at least one prompt')
        .max(50, 'prompts takes at most 50 prompts')
        .describe('The prompts each tier gets (1-50).'),
      runs: z.number({ error: 'runs must be a whole number' }).int('runs must be a whole number').min(1, 'runs must be >= 1').max(5, 'runs must be at most 5').optional().describe('Runs of each prompt on each tier (1-5, default 1).'),
    }),
    rateLimited: true,
    annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    usage: 'compare_tiers takes { tiers: [a, b] (two tier names), prompts: string[] (1-50), runs?: 1-5 }',
    async handle(input, ctx) {
      const status = ctx.engine.compare.start({ tiers: input.tiers, prompts: input.prompts, runs: input.runs, viewer: ctx.viewer, clientId: ctx.clientId });
      return { text: statusText(status), structured: status as unknown as Record<string, unknown> };
    },
  });

// Progress of a comparison; when it is done, its summary, table and the paths of compare.json and report.html.
export const compareStatusTool = (limits: Limits) =>
  defineTool({
    name: 'compare_status',
    title: 'Comparison status',
    description: 'Progress of a compare_tiers comparison (runs done of total); once done, the summary per tier with ratios b/a, the table, and the paths of compare.json and report.html. With wait_s it waits for the comparison to finish.',
    inputSchema: z.strictObject({
      compare_id: CompareIdField,
      wait_s: waitField(limits.maxWaitS).optional().describe(`Wait up to this many seconds for the comparison to finish (0-${limits.maxWaitS}, default 0).`),
    }),
    annotations: { readOnlyHint: true, idempotentHint: true },
    usage: `compare_status takes { compare_id: "c_..." (required), wait_s?: 0-${limits.maxWaitS} }`,
    async handle(input, ctx) {
      const status = await ctx.engine.compare.status(input.compare_id, { waitS: input.wait_s ?? 0, signal: ctx.signal, viewer: ctx.viewer });
      return { text: statusText(status), structured: status as unknown as Record<string, unknown>, isError: status.state === 'failed' ? true : undefined };
    },
  });
