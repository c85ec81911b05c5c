import type { CompareRun } from './types.js';
import type { CompareStep } from './run-compare.js';

const BAR = 24;

// One progress line: a bar, the count, and the run now going (or the one just finished, with its outcome).
export function progressLine(p: { done: number; total: number; step: CompareStep; finished?: CompareRun }, elapsedMs: number): string {
  const filled = Math.round((p.done / Math.max(1, p.total)) * BAR);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`;
  const what = `prompt ${p.step.prompt_index + 1} run ${p.step.run} on ${p.step.tier}`;
  const r = p.finished;
  const outcome = r ? `${r.success ? 'ok' : r.state}${r.latency_ms !== null ? ` ${(r.latency_ms / 1000).toFixed(1)} s` : ''} $${r.cost_usd.toFixed(4)}` : 'running';
  return `${bar} ${p.done}/${p.total} · ${what}: ${outcome} · ${Math.round(elapsedMs / 1000)} s`;
}

// Draws the progress on a stream: redrawn in place on a terminal, else one line per finished run.
export function progressBar(stream: NodeJS.WriteStream): { update(p: Parameters<typeof progressLine>[0]): void; end(): void } {
  const started = Date.now();
  const tty = stream.isTTY === true;
  let drawn = false;
  return {
    update(p) {
      if (!tty && !p.finished) return;
      const line = progressLine(p, Date.now() - started);
      if (tty) {
        stream.write(`\r\x1b[2K${line.slice(0, (stream.columns ?? 120) - 1)}`);
        drawn = true;
      } else stream.write(`${line}\n`);
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}
