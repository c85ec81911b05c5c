import type { CompareProgress } from './run-compare.js';

const BAR = 24;
// How often a terminal's line is redrawn while a run goes (its elapsed time moves), and at most how often events
// redraw it.
const TICK_MS = 1000;
const MIN_REDRAW_MS = 100;
// A failed run's reason on a line of its own (not a terminal) is cut to this many characters.
const REASON_CHARS = 300;

const seconds = (ms: number): string => `${Math.max(0, Math.round(ms / 1000))} s`;

// A failed run's reason on one line.
export const oneLine = (text: string, max = REASON_CHARS): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

// One progress line: a bar, the count, and the run now going (how long it has been going, then its task's last
// event) or the one just finished, with its outcome (a failed run's reason included); then the comparison's total time.
export function progressLine(p: CompareProgress, elapsedMs: number, now = Date.now()): string {
  const filled = Math.round((p.done / Math.max(1, p.total)) * BAR);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`;
  const what = `prompt ${p.step.prompt_index + 1} run ${p.step.run} on ${p.step.tier}`;
  const r = p.finished;
  let outcome: string;
  if (r) {
    const took = r.latency_ms !== null ? ` ${(r.latency_ms / 1000).toFixed(1)} s` : '';
    const why = r.success ? '' : ` · ${oneLine(r.error ?? r.state)}`;
    outcome = `${r.success ? 'ok' : r.state}${took} $${r.cost_usd.toFixed(4)}${why}`;
  } else if (p.running) outcome = `running ${seconds(now - p.running.since)} · ${p.running.event}`;
  else outcome = 'starting';
  return `${bar} ${p.done}/${p.total} · ${what}: ${outcome} · total ${seconds(elapsedMs)}`;
}

// Draws the progress on a stream. On a terminal the line is redrawn in place: on each event and every second while
// a run goes; a failed run's line stays on screen. Otherwise one line per finished run.
export function progressBar(stream: NodeJS.WriteStream): { update(p: CompareProgress): void; end(): void } {
  const started = Date.now();
  const tty = stream.isTTY === true;
  let drawn = false;
  let last: CompareProgress | undefined;
  let drawnAt = 0;
  let ticker: NodeJS.Timeout | undefined;
  const draw = () => {
    if (!last) return;
    drawnAt = Date.now();
    const width = (stream.columns || 120) - 1;
    stream.write(`\r\x1b[2K${progressLine(last, drawnAt - started, drawnAt).slice(0, width)}`);
    drawn = true;
  };
  return {
    update(p) {
      if (!tty) {
        if (p.finished) stream.write(`${progressLine(p, Date.now() - started)}\n`);
        return;
      }
      if (p.finished && !p.finished.success) {
        last = undefined;
        // Kept above the moving line: the whole line, reason included, however wide the terminal.
        stream.write(`\r\x1b[2K${progressLine(p, Date.now() - started)}\n`);
        drawn = false;
        return;
      }
      last = p;
      if (!p.running || p.finished || Date.now() - drawnAt >= MIN_REDRAW_MS) draw();
      ticker ??= setInterval(draw, TICK_MS);
      ticker.unref();
    },
    end() {
      if (ticker) clearInterval(ticker);
      ticker = undefined;
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
