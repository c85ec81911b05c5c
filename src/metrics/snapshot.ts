// A metric as prom-client's getMetricsAsJSON gives it (only what is read here).
interface MetricJson {
  name: string;
  values: Array<{ value: number; labels: Record<string, string | number | undefined>; metricName?: string }>;
}

// The numbers server_stats shares with /metrics, read from the same registry.
export interface MetricsSnapshot {
  tasks: { running: number; queued: number; finished: Record<string, number> };
  quickAnswers: Record<string, number>;
  claudeProcesses: number;
  claudeRssMb: number;
  spares: { hits: number; misses: number; ready: Record<string, number> };
  rateLimited: number;
}

// Sums a metric's values, or groups the sum by one label.
function sum(metrics: MetricJson[], name: string): number {
  return (metrics.find((m) => m.name === name)?.values ?? []).reduce((n, v) => n + v.value, 0);
}
function byLabel(metrics: MetricJson[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of metrics.find((m) => m.name === name)?.values ?? []) {
    const key = String(v.labels[label] ?? '');
    out[key] = (out[key] ?? 0) + v.value;
  }
  return out;
}

// Reads the server_stats numbers out of a registry's JSON (metric names with this prefix).
export function readSnapshot(metrics: MetricJson[], prefix: string): MetricsSnapshot {
  const n = (name: string) => sum(metrics, `${prefix}${name}`);
  return {
    tasks: {
      running: n('tasks_running'),
      queued: n('tasks_queued'),
      finished: byLabel(metrics, `${prefix}tasks_finished_total`, 'state'),
    },
    quickAnswers: byLabel(metrics, `${prefix}quick_answers_total`, 'outcome'),
    claudeProcesses: n('claude_processes'),
    claudeRssMb: Math.round(n('claude_rss_bytes') / 1048576),
    spares: {
      hits: n('spare_hits_total'),
      misses: n('spare_misses_total'),
      ready: byLabel(metrics, `${prefix}spares_ready`, 'tier'),
    },
    rateLimited: n('rate_limited_total'),
  };
}
