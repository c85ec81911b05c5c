import { Counter, Histogram, Registry } from 'prom-client';
import { addGauges, type MetricSources } from './gauges.js';
import { circuitLabel } from './model-label.js';
import { readSnapshot, type MetricsSnapshot } from './snapshot.js';

// What a finished task tells the metrics (a TaskRecord fits).
export interface FinishedTask {
  state: string;
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  request: { tier: string; model: string };
  stats: { costUsd: number; inputTokens: number; outputTokens: number };
}

// What a finished quick answer tells the metrics.
export interface FinishedQuick {
  tier: string;
  model: string;
  /** answered, error, exited, refused, or the reason claude was stopped (cancelled, wall_timeout, idle_timeout). */
  outcome: string;
  seconds: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
}

const P = 'claude_tiers_';

// The Prometheus metrics of one engine, in a registry of its own (never prom-client's global one); server_stats
// reads its numbers from this same registry.
export class Metrics {
  readonly registry = new Registry();
  /** The model label of a requested model: bounded (see model-label.ts); by default every model is "other". */
  private readonly modelLabel: (model: string) => string;
  private readonly tasks = new Counter({
    name: `${P}tasks_finished_total`,
    help: 'Tasks that reached a final state, by tier and state',
    labelNames: ['tier', 'state'] as const,
    registers: [this.registry],
  });
  private readonly quicks = new Counter({
    name: `${P}quick_answers_total`,
    help: 'Quick answers by tier and outcome',
    labelNames: ['tier', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly spareHits = new Counter({
    name: `${P}spare_hits_total`,
    help: 'Quick answers served by a warm spare',
    labelNames: ['tier'] as const,
    registers: [this.registry],
  });
  private readonly spareMisses = new Counter({
    name: `${P}spare_misses_total`,
    help: 'Quick answers that wanted a warm spare and went cold',
    labelNames: ['tier'] as const,
    registers: [this.registry],
  });
  private readonly rateLimited = new Counter({
    name: `${P}rate_limited_total`,
    help: 'Tool calls refused by the rate limiter',
    labelNames: ['tool'] as const,
    registers: [this.registry],
  });
  private readonly transitions = new Counter({
    name: `${P}breaker_transitions_total`,
    help: 'Circuit breaker state changes, by circuit (tier:model) and new state',
    labelNames: ['key', 'to'] as const,
    registers: [this.registry],
  });
  private readonly cost = new Counter({
    name: `${P}cost_usd_total`,
    help: 'Cost reported by claude in USD, by tier and requested model',
    labelNames: ['tier', 'model'] as const,
    registers: [this.registry],
  });
  private readonly tokensIn = new Counter({
    name: `${P}input_tokens_total`,
    help: 'Input tokens (cache reads and writes included), by tier',
    labelNames: ['tier'] as const,
    registers: [this.registry],
  });
  private readonly tokensOut = new Counter({
    name: `${P}output_tokens_total`,
    help: 'Output tokens, by tier',
    labelNames: ['tier'] as const,
    registers: [this.registry],
  });
  private readonly quickLatency = new Histogram({
    name: `${P}quick_answer_seconds`,
    help: 'quick_answer latency end to end (one run of a tier)',
    labelNames: ['tier'] as const,
    buckets: [0.25, 0.5, 1, 1.5, 2, 3, 5, 8, 13, 20, 30, 60],
    registers: [this.registry],
  });
  private readonly firstEvent = new Histogram({
    name: `${P}task_first_event_seconds`,
    help: "deep_task time from its start to claude's first stdout line",
    labelNames: ['tier'] as const,
    buckets: [0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.5, 2, 3, 5, 10],
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: `${P}task_duration_seconds`,
    help: 'Task duration from its start (or creation, if it never ran) to its end',
    labelNames: ['tier', 'state'] as const,
    buckets: [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });

  constructor(options: { modelLabel?: (model: string) => string } = {}) {
    this.modelLabel = options.modelLabel ?? (() => 'other');
  }

  // The Prometheus content type of text().
  get contentType(): string {
    return this.registry.contentType;
  }

  // Connects the gauges to what they read when scraped (queue, processes, spares, circuits); call once.
  watch(sources: MetricSources): void {
    addGauges(this.registry, P, sources, (key) => circuitLabel(key, this.modelLabel));
  }

  // A task reached its final state.
  taskFinished(t: FinishedTask): void {
    const { tier, model } = t.request;
    this.tasks.inc({ tier, state: t.state });
    this.spend(tier, model, t.stats.costUsd, t.stats.inputTokens, t.stats.outputTokens);
    const end = t.endedAt ?? Date.now();
    this.duration.observe({ tier, state: t.state }, Math.max(0, end - (t.startedAt ?? t.createdAt)) / 1000);
  }

  // One quick run of a tier ended, answered or not.
  quickFinished(q: FinishedQuick): void {
    this.quicks.inc({ tier: q.tier, outcome: q.outcome });
    this.quickLatency.observe({ tier: q.tier }, q.seconds);
    this.spend(q.tier, q.model, q.costUsd, q.inputTokens, q.outputTokens);
  }

  // Counts a spare take as a hit or a miss; returns the spare (or undefined) unchanged.
  spareTaken<T>(tier: string, spare: T | undefined): T | undefined {
    (spare ? this.spareHits : this.spareMisses).inc({ tier });
    return spare;
  }

  // Runs the rate limiter's admit; a refusal is counted, then thrown on.
  async admitting(tool: string, admit: () => void | Promise<void>): Promise<void> {
    try {
      await admit();
    } catch (err) {
      this.rateLimited.inc({ tool });
      throw err;
    }
  }

  // A circuit changed state.
  breakerTransition(key: string, to: string): void {
    this.transitions.inc({ key: circuitLabel(key, this.modelLabel), to });
  }

  // Wraps a task's line listener: the first line observes the time since `since` (ms), every line goes on.
  firstLine<L extends { at?: number }>(tier: string, since: number, listener: (line: L) => void): (line: L) => void {
    let seen = false;
    return (line) => {
      if (!seen) {
        seen = true;
        this.firstEvent.observe({ tier }, Math.max(0, (line.at ?? Date.now()) - since) / 1000);
      }
      listener(line);
    };
  }

  // The Prometheus text exposition of every metric.
  text(): Promise<string> {
    return this.registry.metrics();
  }

  // The numbers server_stats shows, read from this registry.
  async snapshot(): Promise<MetricsSnapshot> {
    return readSnapshot(await this.registry.getMetricsAsJSON(), P);
  }

  private spend(tier: string, model: string, usd: number, tokensIn: number, tokensOut: number): void {
    if (usd > 0) this.cost.inc({ tier, model: this.modelLabel(model) }, usd);
    if (tokensIn > 0) this.tokensIn.inc({ tier }, tokensIn);
    if (tokensOut > 0) this.tokensOut.inc({ tier }, tokensOut);
  }
}
