import { costChart } from './cost-chart.js';
import { latencyChart } from './latency-chart.js';
import { esc, TIER_COLORS } from './svg-util.js';
import { formatMetric, formatRatio, METRIC_LABELS, NO_VALUE, plural } from './table.js';
import { METRICS, type CompareResult, type CompareRun } from './types.js';

const CSS =
  `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: ` +
  `24px auto; max-width: 960px; color: #1d1d1d; padding: 0 16px; overflow-wrap: anywhere; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
.meta { color: #555; margin: 0 0 16px; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; max-width: 100%; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 12px; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; white-space: normal; }
td.reason { text-align: left; white-space: normal; min-width: 16em; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; }
figure { margin: 16px 0; } svg { display: block; width: 100%; max-width: 100%; height: auto; font-family: inherit; }
ol.prompts li, ul.failures li { margin: 2px 0; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
.bad { color: #b00020; }
@media (max-width: 600px) {
  body { margin: 12px auto; padding: 0 10px; }
  h1 { font-size: 20px; }
  th, td { padding: 4px 6px; font-size: 14px; }
  figure { margin: 12px 0; }
}
`;

function summaryTable(result: CompareResult): string {
  const { a, b, ratio_b_over_a: ratios } = result.summary;
  const head = `<tr><th>metric</th>${[a, b]
    .map((t, i) => `<th><span class="swatch" style="background:${TIER_COLORS[i]}"></span>${esc(t.tier)}</th>`)
    .join('')}<th>b/a</th></tr>`;
  const runs = `<tr><td>runs</td><td>${a.runs}</td><td>${b.runs}</td><td></td></tr>`;
  const rows = METRICS.map((m) => {
    const cells = [METRIC_LABELS[m], formatMetric(m, a[m]), formatMetric(m, b[m]), formatRatio(ratios[m])];
    return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  }).join('');
  return `<div class="scroll"><table class="summary">${head}${runs}${rows}</table></div>`;
}

const dash = (v: number | null): string => (v === null ? NO_VALUE : String(v));
const runName = (r: CompareRun): string => `prompt ${r.prompt_index + 1} run ${r.run} on ${r.tier}`;

function runsTable(result: CompareResult): string {
  const rows = result.results
    .map((r) => {
      const cells = [r.prompt_index + 1, r.run, esc(r.tier), esc(r.state), dash(r.latency_ms), dash(r.first_event_ms)];
      cells.push(r.cost_usd.toFixed(6), r.turns, r.output_tokens, esc(r.task_id ?? ''));
      const reason = r.success ? '' : esc(r.error ?? r.state);
      return (
        `<tr${r.success ? '' : ' class="bad"'}>${cells.map((c) => `<td>${c}</td>`).join('')}<td ` +
        `class="reason">${reason}</td></tr>`
      );
    })
    .join('');
  const head = ['prompt', 'run', 'tier', 'state', 'latency ms', 'first event ms', 'cost USD', 'turns', 'output tokens'];
  const heads = [...head, 'task', 'why it failed'].map((h) => `<th>${h}</th>`).join('');
  const table = `<div class="scroll"><table class="runs"><tr>${heads}</tr>${rows}</table></div>`;
  return `<details><summary>Every run (${result.results.length})</summary>${table}</details>`;
}

// Every failed run and why, in the open: a failure must not hide inside a folded table.
function failures(result: CompareResult): string {
  const failed = result.results.filter((r) => !r.success);
  if (!failed.length) return '';
  const item = (r: CompareRun) => {
    const which = `${esc(r.state)}${r.task_id ? `, ${esc(r.task_id)}` : ''}`;
    return `<b>${esc(runName(r))}</b> (${which}): ${esc(r.error ?? r.state)}`;
  };
  const items = failed.map((r) => `<li>${item(r)}</li>`).join('');
  return (
    `<h2 class="bad">Failed runs (${failed.length} of ${result.results.length})</h2>\n<ul ` +
    `class="failures">${items}</ul>\n`
  );
}

// The self-contained report: summary table, latency and cost charts as inline SVG, the prompts and every run.
// No script, stylesheet, font or image is loaded from anywhere.
export function reportHtml(result: CompareResult): string {
  const [ta, tb] = result.tiers;
  const title = `A/B comparison: ${ta} vs ${tb}`;
  const done = result.results.length;
  const total = result.prompts.length * result.runs * 2;
  const meta =
    `${plural(result.prompts.length, 'prompt')} × ${plural(result.runs, 'run')} per tier, ${done} ` +
    `of ${plural(total, 'run')} done${result.aborted ? ' (stopped early)' : ''} · ${esc(result.started_at)} ` +
    `to ${esc(result.ended_at)} · runs interleaved ${esc(ta)}, ${esc(tb)}, ${esc(ta)}, ${esc(tb)}…`;
  const prompts = result.prompts.map((p) => `<li>${esc(p.length > 200 ? `${p.slice(0, 200)}…` : p)}</li>`).join('');
  return (
    `<!doctype html>
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
<h2 id="summary">Summary</h2>
${summaryTable(result)}
<p class="meta">Latency: from submission to the task's final state. First event: from the task's start to ` +
    `claude's first event. Percentiles by nearest rank; b/a divides tier ${esc(tb)} by tier ${esc(ta)}.</p>
${failures(result)}<h2 id="latency">Latency</h2>
<figure>${latencyChart(result.tiers, result.results)}</figure>
<h2 id="cost">Cost</h2>
<figure>${costChart(result.tiers, result.prompts, result.results)}</figure>
<h2 id="prompts">Prompts</h2>
<ol class="prompts">${prompts}</ol>
<h2 id="runs">Runs</h2>
${runsTable(result)}
</body>
</html>
`
  );
}
