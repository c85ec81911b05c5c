import { z } from 'zod';
import { defineTool } from './define-tool.js';

// What the server is doing: tasks, warm spares (hits/misses), the answer cache, memory.
export const serverStatsTool = defineTool({
  name: 'server_stats',
  title: 'Server stats',
  description:
    "Counters of this claude-tiers server: running/queued tasks (the server's and your own, with your fair " +
    'share), claude processes, warm spare hits and misses, answer cache, uptime and memory.',
  inputSchema: z.strictObject({}),
  annotations: { readOnlyHint: true, idempotentHint: true },
  usage: 'server_stats takes no arguments: {}',
  async handle(_input, ctx) {
    const stats = await ctx.stats(ctx.viewer);
    const mine = stats.mine;
    const finished =
      mine &&
      (Object.entries(mine.finished)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ') ||
        'none finished');
    const text = [
      `up ${stats.uptime_s} s · ${stats.tasks.running} running, ${stats.tasks.queued} queued ` +
        `(peak ${stats.tasks.peak_running}) · ${stats.claude_processes} claude processes`,
      `warm spares: ${stats.spares.ready} ready, ${stats.spares.hits} hits, ${stats.spares.misses} ` +
        `misses, ${stats.spares.spawned} spawned, ${stats.spares.expired} expired, ${stats.spares.died} died`,
      `circuits: ${
        Object.entries(stats.circuits)
          .map(
            ([k, c]) => `${k} ${c.state}${c.next_probe_in_s !== undefined ? ` (probe in ${c.next_probe_in_s} s)` : ''}`,
          )
          .join(', ') || 'none'
      }`,
      `cache: ${stats.cache.entries} entries, ${stats.cache.bytes} bytes, ${stats.cache.hits} ` +
        `hits, ${stats.cache.misses} misses · rss ${stats.memory_mb.rss} MB`,
      ...(mine
        ? [
            `yours (${mine.principal}): ${mine.running} running, ${mine.queued} queued, ${finished} · ` +
              `your fair share now: ${mine.share.running} running slots, ${mine.share.queue} queue places`,
          ]
        : []),
    ].join('\n');
    return { text, structured: stats };
  },
});
