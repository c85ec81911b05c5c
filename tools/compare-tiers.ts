import { z } from 'zod';
import { CompareStatusSchema, type CompareStatus, type Limits } from '../src/engine.js';
import { defineTool } from './define-tool.js';
import { CompareIdField, promptField, TierField, waitField } from './fields.js';

// The status as a few lines: progress (the run going now), then the table and the report files once it is done.
export function compareStatusText(s: CompareStatus): string {
  const head = `${s.compare_id}: ${s.tiers[0]} vs ${s.tiers[1]} · ${s.state} · ${s.done}/${s.total} runs done`;
  if (s.state === 'running') {
    const c = s.current;
    const now = c ? `\nnow: prompt ${c.prompt_index + 1} run ${c.run} on ${c.tier}: ${c.progress}` : '';
    const follow = `follow it with compare_status { compare_id: "${s.compare_id}", wait_s: 60 }`;
    return `${head}${now}\n${follow}; stop it with kill_task { compare_id: "${s.compare_id}" }`;
  }
  const lines = [head];
  if (s.stopped_by) lines.push(`stopped by ${s.stopped_by}`);
  if (s.error) lines.push(`error: ${s.error}`);
  else if (s.failed_runs) lines.push(`${s.failed_runs} failed; the first: ${s.first_failure}`);
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
      'Run the same prompts through two tiers as deep tasks, interleaved (a, b, a, b…), `runs` times each, ' +
      'and compare success rate, latency p50/p95, time to first event, cost, turns and output tokens (each with ' +
      'the ratio b/a). It can take minutes: it returns a compare_id at once; compare_status follows it and, ' +
      'when done, gives the table and the paths of compare.json and a self-contained report.html. ' +
      'kill_task { compare_id } stops it; so does cancelling a compare_tiers call that waits (wait_s). ' +
      'Each caller runs at most 2 comparisons at once.',
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
      runs: z
        .number({ error: 'runs must be a whole number' })
        .int('runs must be a whole number')
        .min(1, 'runs must be >= 1')
        .max(5, 'runs must be at most 5')
        .optional()
        .describe('Runs of each prompt on each tier (1-5, default 1).'),
      wait_s: waitField(limits.maxWaitS)
        .optional()
        .describe(
          `Wait up to this many seconds for it to finish (0-${limits.maxWaitS}, default 0); cancelling this ` +
            `call while it waits stops the comparison.`,
        ),
    }),
    outputSchema: CompareStatusSchema,
    rateLimited: true,
    annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    usage:
      `compare_tiers takes { tiers: [a, b] (two tier names), prompts: string[] (1-50), runs?: 1-5, wait_s?: ` +
      `0-${limits.maxWaitS} }`,
    async handle(input, ctx) {
      const { compare } = ctx;
      const started = compare.start({
        tiers: input.tiers,
        prompts: input.prompts,
        runs: input.runs,
        viewer: ctx.viewer,
        clientId: ctx.clientId,
      });
      const waitS = input.wait_s ?? 0;
      // A call that waits is the caller's: cancelling it (the request's abort signal) stops the comparison.
      const status =
        waitS > 0
          ? await compare.status(started.compare_id, {
              waitS,
              signal: ctx.signal,
              viewer: ctx.viewer,
              stopOnAbort: 'compare_tiers (request cancelled)',
            })
          : started;
      return { text: compareStatusText(status), structured: status };
    },
  });

// Progress of a comparison; when it is done, its summary, table and the paths of compare.json and report.html.
export const compareStatusTool = (limits: Limits) =>
  defineTool({
    name: 'compare_status',
    title: 'Comparison status',
    description:
      'Progress of a compare_tiers comparison (runs done of total); once done, the summary per tier with ' +
      'ratios b/a, the table, and the paths of compare.json and report.html. With wait_s it waits for the ' +
      'comparison to finish.',
    inputSchema: z.strictObject({
      compare_id: CompareIdField,
      wait_s: waitField(limits.maxWaitS)
        .optional()
        .describe(`Wait up to this many seconds for the comparison to finish (0-${limits.maxWaitS}, default 0).`),
    }),
    outputSchema: CompareStatusSchema,
    annotations: { readOnlyHint: true, idempotentHint: true },
    usage: `compare_status takes { compare_id: "c_..." (required), wait_s?: 0-${limits.maxWaitS} }`,
    async handle(input, ctx) {
      const status = await ctx.compare.status(input.compare_id, {
        waitS: input.wait_s ?? 0,
        signal: ctx.signal,
        viewer: ctx.viewer,
      });
      return {
        text: compareStatusText(status),
        structured: status,
        isError: status.state === 'failed' ? true : undefined,
      };
    },
  });
