// Reading Prometheus text in tests.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/g;

// A tiny parser of the text exposition format: comments must be HELP or TYPE, every other line one sample; throws
// otherwise.
export function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    if (line.startsWith('#')) {
      if (!/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) throw new Error(`bad comment line: ${line}`);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    let consumed = 0;
    for (const l of body.matchAll(LABEL)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      consumed += l[0].length;
    }
    if (consumed !== body.length) throw new Error(`bad labels: ${line}`);
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

// The value of one sample (0 when absent) and the sum over samples whose labels include `where`.
export const value = (samples: Sample[], name: string, where: Record<string, string> = {}): number =>
  samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

// The loopback port a server opened with --metrics-port 0, from its start-up line on stderr.
export async function metricsPortOf(stderr: () => string, timeoutMs = 15_000): Promise<string | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const port = /claude-tiers metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(stderr())?.[1];
    if (port || Date.now() > end) return port;
    await new Promise((r) => setTimeout(r, 100));
  }
}
