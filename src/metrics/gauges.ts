import { Gauge, type Registry } from 'prom-client';
import { rssBytes } from './proc-rss.js';

// What the gauges read at scrape time; every reader is cheap (counters in memory, a few /proc files).
export interface MetricSources {
  tasks(): { running: number; queued: number };
  /** Pids of the live claude processes this server started (spares included). */
  processPids(): number[];
  /** Warm spares ready now, by tier. */
  sparesReady(): Record<string, number>;
  /** State of every circuit (key tier:model). */
  circuits(): Record<string, { state: 'closed' | 'half_open' | 'open' }>;
  /** In a cluster: tasks waiting in the shared queue (read from Redis when scraped). */
  sharedQueue?(): Promise<number>;
}

const BREAKER_LEVEL = { closed: 0, half_open: 1, open: 2 } as const;

// Adds the gauges that are read when scraped (collect callbacks) to a registry; circuitLabel bounds the label of a
// circuit key (tier:model).
export function addGauges(
  registry: Registry,
  prefix: string,
  sources: MetricSources,
  circuitLabel: (key: string) => string = (k) => k,
): void {
  const registers = [registry];
  const simple = (name: string, help: string, read: () => number): void => {
    const g: Gauge = new Gauge({ name: `${prefix}${name}`, help, registers, collect: () => g.set(read()) });
  };
  simple('tasks_queued', 'Tasks waiting for a running slot', () => sources.tasks().queued);
  simple('tasks_running', 'Tasks holding a running slot', () => sources.tasks().running);
  const shared = sources.sharedQueue;
  if (shared) {
    const g: Gauge = new Gauge({
      name: `${prefix}cluster_tasks_waiting`,
      help: 'Tasks waiting in the shared queue of the cluster (all servers)',
      registers,
      collect: async () => {
        // Redis away: the last value stays.
        const n = await shared().catch(() => undefined);
        if (n !== undefined) g.set(n);
      },
    });
  }
  simple(
    'claude_processes',
    'Live claude processes started by this server (warm spares included)',
    () => sources.processPids().length,
  );
  simple('claude_rss_bytes', 'Resident memory of the live claude processes and their descendants', () =>
    rssBytes(sources.processPids()),
  );
  const spares: Gauge<'tier'> = new Gauge({
    name: `${prefix}spares_ready`,
    help: 'Warm spares ready now, by tier',
    labelNames: ['tier'] as const,
    registers,
    collect: () => {
      spares.reset();
      for (const [tier, n] of Object.entries(sources.sparesReady())) spares.set({ tier }, n);
    },
  });
  const breaker: Gauge<'key'> = new Gauge({
    name: `${prefix}breaker_state`,
    help: 'Circuit breaker state by circuit (tier:model): 0 closed, 1 half_open, 2 open',
    labelNames: ['key'] as const,
    registers,
    collect: () => {
      breaker.reset();
      // Circuits whose labels coincide (models labelled "other") show the worst state among them.
      const levels = new Map<string, number>();
      for (const [key, c] of Object.entries(sources.circuits())) {
        const label = circuitLabel(key);
        levels.set(label, Math.max(levels.get(label) ?? 0, BREAKER_LEVEL[c.state]));
      }
      for (const [key, level] of levels) breaker.set({ key }, level);
    },
  });
}
