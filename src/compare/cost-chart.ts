import { esc, legend, niceTicks, r1, svgOpen, tickLabel, TIER_COLORS } from './svg-util.js';
import type { CompareRun } from './types.js';

// The title the cost chart shows (the report test looks for it).
export const COST_CHART_TITLE = 'Cost per prompt (mean USD per run)';

const W = 900;
const H = 420;
const LEFT = 90;
const RIGHT = 30;
const TOP = 70;
const BOTTOM = 70;

// Mean cost of each prompt on one tier (runs of that prompt on that tier), null when it has no run.
export function costPerPrompt(tier: string, promptCount: number, runs: CompareRun[]): Array<number | null> {
  return Array.from({ length: promptCount }, (_, i) => {
    const own = runs.filter((r) => r.tier === tier && r.prompt_index === i);
    return own.length ? own.reduce((s, r) => s + r.cost_usd, 0) / own.length : null;
  });
}

// Grouped bars: for each prompt, tier a's and tier b's mean cost side by side, on one dollar axis.
export function costChart(tiers: [string, string], prompts: string[], runs: CompareRun[]): string {
  const series = tiers.map((t) => costPerPrompt(t, prompts.length, runs));
  const max = Math.max(0, ...series.flat().map((v) => v ?? 0));
  const ticks = niceTicks(max > 0 ? max : 0.001);
  const top = ticks[ticks.length - 1]!;
  const step = ticks[1]! - ticks[0]!;
  const plotW = W - LEFT - RIGHT;
  const baseY = H - BOTTOM;
  const y = (v: number) => baseY - (v / top) * (baseY - TOP);
  const group = plotW / Math.max(1, prompts.length);
  const bar = Math.min(36, (group * 0.8) / 2);
  let out = svgOpen(W, H, COST_CHART_TITLE, 'cost-chart');
  out += legend(LEFT, 52, tiers.map((t, i) => ({ color: TIER_COLORS[i]!, label: t })));
  for (const t of ticks) {
    out += `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${r1(y(t))}" y2="${r1(y(t))}" stroke="#e3e3e3"/>`;
    out += `<text x="${LEFT - 8}" y="${r1(y(t) + 4)}" text-anchor="end" font-size="12">${tickLabel(t, step, '$')}</text>`;
  }
  const labelEvery = Math.ceil(prompts.length / 25);
  prompts.forEach((prompt, i) => {
    const center = LEFT + group * i + group / 2;
    series.forEach((values, s) => {
      const v = values[i];
      if (v === null || v === undefined) return;
      const x = center - bar + s * bar;
      const top = y(v);
      out += `<rect x="${r1(x)}" y="${r1(top)}" width="${r1(Math.max(1, bar - 2))}" height="${r1(baseY - top)}" fill="${TIER_COLORS[s]}"><title>prompt ${i + 1} on ${esc(tiers[s]!)}: $${v.toFixed(6)} — ${esc(prompt.slice(0, 80))}</title></rect>`;
    });
    if (i % labelEvery === 0) out += `<text x="${r1(center)}" y="${baseY + 18}" text-anchor="middle" font-size="12">${i + 1}</text>`;
  });
  out += `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${baseY}" y2="${baseY}" stroke="#333"/>`;
  out += `<line x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${baseY}" stroke="#333"/>`;
  out += `<text x="${(LEFT + W - RIGHT) / 2}" y="${baseY + 44}" text-anchor="middle" font-size="13">prompt # (see the prompt list below)</text>`;
  out += `<text transform="translate(22 ${(TOP + baseY) / 2}) rotate(-90)" text-anchor="middle" font-size="13">mean cost per run, USD</text>`;
  return `${out}</svg>`;
}
