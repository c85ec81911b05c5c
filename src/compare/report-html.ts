import { costChart } from './cost-chart.js';
import { latencyChart } from './latency-chart.js';
import { esc, TIER_COLORS } from './svg-util.js';
import { formatMetric, formatRatio, METRIC_LABELS } from './table.js';
import { METRICS, type CompareResult } from './types.js';

const CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 960px; color: #1d1d1d; padding: 0 16px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
.meta { color: #555; margin: 0 0 16px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 12px; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; }
figure { margin: 16px 0; } svg { max-width: 100%; height: auto; font-family: inherit; }
ol.prompts li { margin: 2px 0; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
.bad { color: #b00020; }
`;

function summaryTable(result: CompareResult): string {
  const { a, b, ratio_b_over_a: ratios } = result.summary;
  const head = `<tr><th>metric</th>${[a, b].map((t, i) => `<th><span class="swatch" style="background:${TIER_COLORS[i]}"></span>${esc(t.tier)}</th>`).join('')}<th>b/a</th></tr>`;
  const runs = `<tr><td>runs</td><td>${a.runs}</td><td>${b.runs}</td><td></td></tr>`;
  const rows = METRICS.map((m) => `<tr><td>${METRIC_LABELS[m]}</td><td>${formatMetric(m, a[m])}</td><td>${formatMetric(m, b[m])}</td><td>${formatRatio(ratios[m])}</td></tr>`).join('');
  return `<table class="summary">${head}${runs}${rows}</table>`;
}

function runsTable(result: CompareResult): string {
  const rows = result.results
    .map((r) => `<tr><td>${r.prompt_index + 1}</td><td>${r.run}</td><td>${esc(r.tier)}</td><td${r.success ? '' : ' class="bad"'}>${esc(r.state)}</td><td>${r.latency_ms ?? '-'}</td><td>${r.first_event_ms ?? '-'}</td><td>${r.cost_usd.toFixed(6)}</td><td>${r.turns}</td><td>${r.output_tokens}</td><td>${esc(r.task_id ?? r.error ?? '')}</td></tr>`)
    .join('');
  return `<details><summary>Every run (${result.results.length})</summary><table><tr><th>prompt</th><th>run</th><th>tier</th><th>state</th><th>latency ms</th><th>first event ms</th><th>cost USD</th><th>turns</th><th>output tokens</th><th>task</th></tr>${rows}</table></details>`;
}

// The self-contained report: summary table, latency and cost charts as inline SVG, the prompts and every run.
// No script, stylesheet, font or image is loaded from anywhere.
export function reportHtml(result: CompareResult): string {
  const [ta, tb] = result.tiers;
  const title = `A/B comparison: ${ta} vs ${tb}`;
  const done = result.results.length;
  const total = result.prompts.length * result.runs * 2;
  const meta = `${result.prompts.length} prompts × ${result.runs} run${result.runs === 1 ? '' : 's'} per tier, ${done} of ${total} runs done${result.aborted ? ' (stopped early)' : ''} · ${esc(result.started_at)} to ${esc(result.ended_at)} · runs interleaved ${esc(ta)}, ${esc(tb)}, ${esc(ta)}, ${esc(tb)}…`;
  const prompts = result.prompts.map((p) => `<li>${esc(p.length > 200 ? `${p.slice(0, 200)}…` : p)}</li>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`claude-tiers: ${title}`)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">${meta}</p>
<h2>Summary</h2>
${summaryTable(result)}
<p class="meta">Latency: from submission to the task's final state. First event: from the task's start to claude's first event. Percentiles by nearest rank; b/a divides tier ${esc(tb)} by tier ${esc(ta)}.</p>
<h2>Latency</h2>
<figure>${latencyChart(result.tiers, result.results)}</figure>
<h2>Cost</h2>
<figure>${costChart(result.tiers, result.prompts, result.results)}</figure>
<h2>Prompts</h2>
<ol class="prompts">${prompts}</ol>
<h2>Runs</h2>
${runsTable(result)}
</body>
</html>
`;
}
