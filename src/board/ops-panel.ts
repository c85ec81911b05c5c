import type { Engine, Viewer } from '../engine.js';
import { budgetFor } from '../cost/daily-budgets.js';
import type { OpsPoint, OpsView } from '../shapes/board.js';

const SAMPLE_MS = 30_000;
const MIN_GAP_MS = 5_000;
const HOUR_MS = 3_600_000;

// The panel and its chart points: their schemas are in src/shapes.
export type { OpsPoint, OpsView } from '../shapes/board.js';

// A metric as getMetricsAsJSON() gives it, with the metricName a histogram's values carry (prom-client's type omits
// it).
interface MetricJson {
  name: string;
  values: Array<{ value: number; labels: Record<string, unknown>; metricName?: string }>;
}

const sumOf = (m: MetricJson[], name: string, metric = name): number =>
  (m.find((x) => x.name === name)?.values ?? [])
    .filter((v) => (v.metricName ?? name) === metric)
    .reduce((n, v) => n + v.value, 0);

// Samples the metrics registry (every 30 s while the board is served, and when the panel is read) into an hour of
// points.
export class OpsPanel {
  private readonly points: OpsPoint[] = [];
  private last?: { t: number; quickSum: number; quickCount: number; taskSum: number; taskCount: number; cost: number };
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly engine: Engine,
    private readonly options: { principals: () => string[]; rateKey: (viewer: Viewer) => string },
  ) {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async sample(): Promise<void> {
    const m: MetricJson[] = await this.engine.metrics.registry.getMetricsAsJSON();
    const P = 'claude_tiers_';
    const now = {
      t: Date.now(),
      quickSum: sumOf(m, `${P}quick_answer_seconds`, `${P}quick_answer_seconds_sum`),
      quickCount: sumOf(m, `${P}quick_answer_seconds`, `${P}quick_answer_seconds_count`),
      taskSum: sumOf(m, `${P}task_duration_seconds`, `${P}task_duration_seconds_sum`),
      taskCount: sumOf(m, `${P}task_duration_seconds`, `${P}task_duration_seconds_count`),
      cost: sumOf(m, `${P}cost_usd_total`),
    };
    const prev = this.last;
    this.last = now;
    if (!prev) return;
    const mean = (sum: number, count: number) => (count > 0 ? Math.round((sum / count) * 1000) / 1000 : null);
    this.points.push({
      t: now.t,
      quick_s: mean(now.quickSum - prev.quickSum, now.quickCount - prev.quickCount),
      task_s: mean(now.taskSum - prev.taskSum, now.taskCount - prev.taskCount),
      cost_usd: Math.max(0, Math.round((now.cost - prev.cost) * 1e6) / 1e6),
    });
    while (this.points.length && this.points[0]!.t < now.t - HOUR_MS) this.points.shift();
  }

  // The panel for this viewer: an admin sees every token's budget, others their own.
  async view(viewer: Viewer): Promise<OpsView> {
    if (!this.last || Date.now() - this.last.t > MIN_GAP_MS) await this.sample();
    const stats = await this.engine.stats(viewer.admin ? undefined : viewer);
    const mine = viewer.admin ? undefined : stats.mine;
    const { budgets } = this.engine.config;
    const tomorrow = new Date();
    tomorrow.setUTCHours(24, 0, 0, 0);
    const who = viewer.admin ? this.options.principals() : [viewer.principal];
    const budgetRows: OpsView['budgets'] = [];
    for (const principal of who) {
      const b = budgetFor(budgets, principal);
      if (b)
        budgetRows.push({
          principal,
          spent_usd: this.engine.spending.budgets.spentToday(principal),
          limit_usd: b.usd,
          resets_at: tomorrow.toISOString(),
        });
    }
    const breakers = Object.entries(stats.circuits).map(([key, c]) => ({ key, state: c.state }));
    return {
      scope: mine ? 'yours' : 'server',
      running: mine ? mine.running : stats.tasks.running,
      queued: mine ? mine.queued : stats.tasks.queued,
      share: mine ? mine.share : null,
      spares_ready: stats.spares.ready,
      breakers,
      budgets: budgetRows,
      rate: (await this.engine.rateLimiter.headroom?.(this.options.rateKey(viewer))) ?? null,
      series: [...this.points],
    };
  }
}
