import { percentile } from './summary.js';
import { esc, legend, niceTicks, r1, svgOpen, tickLabel, TIER_COLORS } from './svg-util.js';
import { plural } from './table.js';
import type { CompareRun } from './types.js';

// The title the latency chart shows (the report test looks for it).
export const LATENCY_CHART_TITLE = 'Latency distribution per tier';

const W = 900;
const LEFT = 150;
const RIGHT = 40;
const ROW = 110;
const TOP = 70;

// A stable jitter in [-1, 1] for the i-th dot, so the same data draws the same chart.
const jitter = (i: number): number => ((i * 7919) % 97) / 48 - 1;

// One tier's row: every run as a dot (hollow when it failed), a box from p25 to p75 and a line at the median.
function row(tier: string, runs: CompareRun[], y: number, x: (v: number) => number, color: string): string {
  const values = runs.map((r) => r.latency_ms).filter((v): v is number => v !== null);
  const name = esc(tier);
  let out = `<text x="${LEFT - 12}" y="${y + 5}" text-anchor="end" font-size="14" font-weight="600">${name}</text>`;
  const count = plural(values.length, 'run');
  out += `<text x="${LEFT - 12}" y="${y + 22}" text-anchor="end" font-size="11" fill="#555">${count}</text>`;
  if (values.length) {
    const p25 = percentile(values, 25)!;
    const p50 = percentile(values, 50)!;
    const p75 = percentile(values, 75)!;
    out +=
      `<line x1="${r1(x(Math.min(...values)))}" x2="${r1(x(Math.max(...values)))}" y1="${y}" y2="${y}" ` +
      `stroke="${color}" stroke-width="1.5"/>`;
    out +=
      `<rect x="${r1(x(p25))}" y="${y - 18}" width="${r1(Math.max(2, x(p75) - x(p25)))}" height="36" ` +
      `fill="${color}" fill-opacity="0.18" stroke="${color}" stroke-width="1.5"/>`;
    out +=
      `<line x1="${r1(x(p50))}" x2="${r1(x(p50))}" y1="${y - 22}" y2="${y + 22}" stroke="${color}" ` +
      `stroke-width="3"><title>median ${Math.round(p50)} ms</title></line>`;
  }
  runs.forEach((r, i) => {
    if (r.latency_ms === null) return;
    const cy = y + jitter(i) * 26;
    const fill = r.success ? color : '#fff';
    out +=
      `<circle cx="${r1(x(r.latency_ms))}" cy="${r1(cy)}" r="4.5" fill="${fill}" ` +
      `fill-opacity="${r.success ? 0.75 : 1}" stroke="${color}" ` +
      `stroke-width="1.5"><title>prompt ${r.prompt_index + 1} run ${r.run}: ${r.latency_ms} ` +
      `ms${r.success ? '' : ` (${esc(r.state)})`}</title></circle>`;
  });
  return out;
}

// Latency (submission to final state) of every run, a row per tier, on one shared millisecond axis.
export function latencyChart(tiers: [string, string], runs: CompareRun[]): string {
  const height = TOP + ROW * 2 + 70;
  const max = Math.max(1, ...runs.map((r) => r.latency_ms ?? 0));
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1]!;
  const x = (v: number) => LEFT + (v / top) * (W - LEFT - RIGHT);
  const axisY = TOP + ROW * 2 - 10;
  let out = svgOpen(W, height, LATENCY_CHART_TITLE, 'latency-chart');
  out += legend(LEFT, 52, [
    { color: TIER_COLORS[0], label: tiers[0] },
    { color: TIER_COLORS[1], label: tiers[1] },
    { color: '#555', label: 'failed run', hollow: true },
    { color: '#ccc', label: 'box: p25-p75, bar: median' },
  ]);
  for (const t of ticks) {
    out += `<line x1="${r1(x(t))}" x2="${r1(x(t))}" y1="${TOP}" y2="${axisY}" stroke="#e3e3e3"/>`;
    out +=
      `<text x="${r1(x(t))}" y="${axisY + 18}" text-anchor="middle" ` +
      `font-size="12">${tickLabel(t, ticks[1]! - ticks[0]!)}</text>`;
  }
  out += `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${axisY}" y2="${axisY}" stroke="#333"/>`;
  out +=
    `<text x="${(LEFT + W - RIGHT) / 2}" y="${axisY + 42}" text-anchor="middle" font-size="13">latency, ms ` +
    `(submission to final state)</text>`;
  tiers.forEach((tier, i) => {
    out += row(
      tier,
      runs.filter((r) => r.tier === tier),
      TOP + ROW * i + ROW / 2 - 5,
      x,
      TIER_COLORS[i]!,
    );
  });
  return `${out}</svg>`;
}
