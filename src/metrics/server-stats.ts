import type { AnswerCache } from '../answer-cache.js';
import type { CircuitBreakers } from '../guards/breaker.js';
import type { SparePool, SpareStats } from '../spares/spare-pool.js';
import type { Metrics } from './metrics.js';
import type { OwnCounts } from '../tasks/own-counts.js';

// What server_stats reports. Every number /metrics also has (tasks, processes, spare hits/misses/ready, quick answers,
// rate-limit refusals) is read from the metrics registry, so the two never disagree.
export type ServerStats = {
  uptime_s: number;
  tasks: { running: number; queued: number; peak_running: number; finished: Record<string, number> };
  quick_answers: Record<string, number>;
  claude_processes: number;
  claude_rss_mb: number;
  spares: SpareStats & { ready_pids: number[] };
  cache: AnswerCache<unknown>['stats'];
  circuits: ReturnType<CircuitBreakers['snapshot']>;
  rate_limited: number;
  memory_mb: { rss: number; heap_used: number };
  /** The caller's own tasks and fair share (a token sees its own numbers besides the server's). */
  mine?: OwnCounts;
};

// Builds server_stats from one read of the metrics registry plus what only the server tool shows.
export async function serverStats(from: {
  metrics: Metrics;
  startedAt: number;
  peakRunning: number;
  spares: SparePool;
  cache: ServerStats['cache'];
  circuits: ServerStats['circuits'];
}): Promise<ServerStats> {
  const m = await from.metrics.snapshot();
  const mem = process.memoryUsage();
  const ready = Object.values(m.spares.ready).reduce((a, b) => a + b, 0);
  return {
    uptime_s: Math.round((Date.now() - from.startedAt) / 1000),
    tasks: {
      running: m.tasks.running,
      queued: m.tasks.queued,
      peak_running: from.peakRunning,
      finished: m.tasks.finished,
    },
    quick_answers: m.quickAnswers,
    claude_processes: m.claudeProcesses,
    claude_rss_mb: m.claudeRssMb,
    spares: {
      ...from.spares.stats,
      hits: m.spares.hits,
      misses: m.spares.misses,
      ready,
      ready_pids: from.spares.readyPids(),
    },
    cache: from.cache,
    circuits: from.circuits,
    rate_limited: m.rateLimited,
    memory_mb: { rss: Math.round(mem.rss / 1048576), heap_used: Math.round(mem.heapUsed / 1048576) },
  };
}
