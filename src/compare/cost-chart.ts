import { esc, legend, niceTicks, r1, svgOpen, tickLabel, TIER_COLORS } from './svg-util.js';
import type { CompareRun } from './types.js';

// The title the cost chart shows (the report test looks for it).
export const COST_CHART_TITLE = 'Cost per prompt (mean USD per run)';

const W = 900;
const H = 420;
const LEFT = 110;
const RIGHT = 30;
const TOP = 70;
const BOTTOM = 70;
// Past this ratio between the largest and the smallest non-zero bar, the axis is logarithmic: on a linear one the
// small tier's bars would be a pixel or two high.
const LOG_FROM_RATIO = 10;
// With at most this many prompts, every bar carries its value.
const LABEL_BARS_UP_TO = 6;

// Mean cost of each prompt on one tier (runs of that prompt on that tier), null when it has no run.
export function costPerPrompt(tier: string, promptCount: number, runs: CompareRun[]): Array<number | null> {
  return Array.from({ length: promptCount }, (_, i) => {
    const own = runs.filter((r) => r.tier === tier && r.prompt_index === i);
    return own.length ? own.reduce((s, r) => s + r.cost_usd, 0) / own.length : null;
  });
}

// A dollar amount with three significant digits, short enough for a bar label.
export const costLabel = (v: number): string => (v === 0 ? '$0' : `$${v >= 1 ? v.toFixed(2) : v.toPrecision(3)}`);

interface Axis {
  ticks: number[];
  /** Height of a value in [0, 1] of the plot (a zero cost sits on the baseline). */
  at(v: number): number;
  label(t: number): string;
  log: boolean;
}

// A linear axis from 0, or a log axis over whole decades when the bars differ by more than LOG_FROM_RATIO.
export function costAxis(values: number[]): Axis {
  const positive = values.filter((v) => v > 0);
  const max = Math.max(0, ...positive);
  const min = Math.min(...positive);
  if (positive.length > 1 && max / min > LOG_FROM_RATIO) {
    const lo = Math.floor(Math.log10(min)) - 0.25;
    const hi = Math.ceil(Math.log10(max));
    const ticks: number[] = [];
    for (let e = Math.ceil(lo); e <= hi; e++) ticks.push(10 ** e);
    const label = (t: number) => `$${t.toFixed(Math.max(0, -Math.round(Math.log10(t))))}`;
    return { ticks, log: true, at: (v) => (v > 0 ? Math.max(0, (Math.log10(v) - lo) / (hi - lo)) : 0), label };
  }
  const ticks = niceTicks(max > 0 ? max : 0.001);
  const top = ticks[ticks.length - 1]!;
  const step = ticks[1]! - ticks[0]!;
  return { ticks, log: false, at: (v) => v / top, label: (t) => tickLabel(t, step, '$') };
}

// Grouped bars: for each prompt, tier a's and tier b's mean cost side by side, on one dollar axis (logarithmic when
// one tier costs over ten times the other, so both stay visible; each bar is labelled with its value).
export function costChart(tiers: [string, string], prompts: string[], runs: CompareRun[]): string {
  const series = tiers.map((t) => costPerPrompt(t, prompts.length, runs));
  const axis = costAxis(series.flat().filter((v): v is number => v !== null));
  const plotW = W - LEFT - RIGHT;
  const baseY = H - BOTTOM;
  const y = (v: number) => baseY - axis.at(v) * (baseY - TOP);
  const group = plotW / Math.max(1, prompts.length);
  const bar = Math.min(36, (group * 0.8) / 2);
  let out = svgOpen(W, H, COST_CHART_TITLE, 'cost-chart');
  out += legend(
    LEFT,
    52,
    tiers.map((t, i) => ({ color: TIER_COLORS[i]!, label: t })),
  );
  for (const t of axis.ticks) {
    out += `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${r1(y(t))}" y2="${r1(y(t))}" stroke="#e3e3e3"/>`;
    out += `<text x="${LEFT - 8}" y="${r1(y(t) + 4)}" text-anchor="end" font-size="12">${axis.label(t)}</text>`;
  }
  const labelEvery = Math.ceil(prompts.length / 25);
  prompts.forEach((prompt, i) => {
    const center = LEFT + group * i + group / 2;
    series.forEach((values, s) => {
      const v = values[i];
      if (v === null || v === undefined) return;
      const x = center - bar + s * bar;
      const top = Math.min(y(v), baseY - 1);
      const tier = esc(tiers[s]!);
      const tip = `prompt ${i + 1} on ${tier}: $${v.toFixed(6)} — ${esc(prompt.slice(0, 80))}`;
      const box = `x="${r1(x)}" y="${r1(top)}" width="${r1(Math.max(1, bar - 2))}" height="${r1(baseY - top)}"`;
      const fill = `fill="${TIER_COLORS[s]}"`;
      out += `<rect class="bar" data-tier="${tier}" data-usd="${v}" ${box} ${fill}><title>${tip}</title></rect>`;
      if (prompts.length <= LABEL_BARS_UP_TO) {
        const at = `x="${r1(x + (bar - 2) / 2)}" y="${r1(top - 5)}"`;
        out += `<text class="value" ${at} text-anchor="middle" font-size="11">${costLabel(v)}</text>`;
      }
    });
    if (i % labelEvery === 0)
      out += `<text x="${r1(center)}" y="${baseY + 18}" text-anchor="middle" font-size="12">${i + 1}</text>`;
  });
  out += `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${baseY}" y2="${baseY}" stroke="#333"/>`;
  out += `<line x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${baseY}" stroke="#333"/>`;
  out +=
    `<text x="${(LEFT + W - RIGHT) / 2}" y="${baseY + 44}" text-anchor="middle" font-size="13">prompt # (see ` +
    `the prompt list below)</text>`;
  const yTitle = `mean cost per run, USD${axis.log ? ' (log scale)' : ''}`;
  const yAt = `transform="translate(18 ${(TOP + baseY) / 2}) rotate(-90)"`;
  out += `<text ${yAt} text-anchor="middle" font-size="13">${yTitle}</text>`;
  return `${out}</svg>`;
}
