// Colours of tier a and tier b in every chart (colour-blind safe blue and orange).
export const TIER_COLORS = ['#2f6db3', '#e07b00'] as const;

// Text safe inside HTML/SVG elements and attributes.
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

// Round axis ticks from 0 to at least max: steps of 1, 2 or 5 times a power of ten.
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let i = 0; ticks.length === 0 || ticks[ticks.length - 1]! < max - 1e-12; i++)
    ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

// A tick label with just enough decimals for its step.
export function tickLabel(value: number, step: number, prefix = ''): string {
  const decimals = step >= 1 ? 0 : Math.min(8, Math.ceil(-Math.log10(step)));
  return `${prefix}${value.toFixed(decimals)}`;
}

// A number rounded for an SVG attribute.
export const r1 = (n: number): string => String(Math.round(n * 10) / 10);

// The chart's visible title and its accessible <title>, the opening of every chart.
export function svgOpen(width: number, height: number, title: string, id: string): string {
  return (
    `<svg id="${id}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" ` +
    `aria-labelledby="${id}-title">` +
    `<title id="${id}-title">${esc(title)}</title>` +
    `<rect width="${width}" height="${height}" fill="#fff"/>` +
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="18" font-weight="600">${esc(title)}</text>`
  );
}

// A legend: one coloured swatch and label per entry, in a row starting at (x, y).
export function legend(
  x: number,
  y: number,
  entries: Array<{ color: string; label: string; hollow?: boolean }>,
): string {
  let at = x;
  return entries
    .map((e) => {
      const swatch = e.hollow
        ? `<circle cx="${at + 6}" cy="${y - 4}" r="5" fill="#fff" stroke="${e.color}" stroke-width="2"/>`
        : `<rect x="${at}" y="${y - 10}" width="12" height="12" fill="${e.color}"/>`;
      const item = `${swatch}<text x="${at + 18}" y="${y}" font-size="13">${esc(e.label)}</text>`;
      at += 30 + e.label.length * 7.2;
      return item;
    })
    .join('');
}
