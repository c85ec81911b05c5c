import { shown } from '../claude/summarize.js';
import type { TaskRecord } from '../tasks/types.js';

const bar = (fraction: number, width = 12): string => {
  const full = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
};

const fmtS = (ms: number) =>
  ms < 60_000
    ? `${Math.round(ms / 1000)}s`
    : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;

// The `claude-tiers tasks` table: state, elapsed, turns, last tool, cost; running tasks get a bar of elapsed time
// against their timeout. A record's text came from the model: control characters are shown escaped, never sent to
// the terminal.
export function tasksTable(records: TaskRecord[], now = Date.now(), width = 120): string {
  const header = ['TASK', 'STATE', 'ELAPSED', 'TURNS', 'COST', 'PROGRESS / LAST TOOL'];
  const rows = records.map((r) => {
    const elapsed = (r.endedAt ?? now) - (r.startedAt ?? r.createdAt);
    const last = r.tools[r.tools.length - 1];
    const tool = last ? `${last.name}: ${last.summary}` : (r.end?.message ?? '');
    const progress = r.state === 'running' ? `${bar(elapsed / (r.request.timeoutS * 1000))} ${tool}` : tool;
    return [r.id, r.state, fmtS(elapsed), String(r.stats.turns), `$${r.stats.costUsd.toFixed(3)}`, shown(progress)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .slice(0, width);
  return [line(header), ...rows.map(line)].join('\n');
}
