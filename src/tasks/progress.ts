import { decisionText, oneLine, shown } from '../claude/summarize.js';
import { isFinal, type TaskRecord } from './types.js';

const SHORT = 240;

// One readable progress line (control and hiding characters escaped), e.g. `turn 3 · Bash: npm test · $0.04 · 41 s`.
export function formatProgress(
  record: Readonly<TaskRecord>,
  now: number,
  writing?: { chars: number },
  calling?: { name: string; summary: string; turn: number },
): string {
  const parts: string[] = [];
  // A call streamed in whole reads as the record will once its assistant event is in (same turn, same words).
  const streamed = calling && !isFinal(record.state) ? calling : undefined;
  if (record.state === 'queued') parts.push('queued');
  else parts.push(`turn ${Math.max(1, streamed?.turn ?? record.stats.turns)}`);
  const last = record.tools[record.tools.length - 1];
  const asked = record.state === 'needs_input' ? record.inputRequest : undefined;
  // A progress line stays short: the input's head and tail, and that it was shortened (the question shows it whole).
  if (asked) parts.push(`waiting for permission: ${asked.tool} ${decisionText(asked.tool, asked.input, SHORT)}`);
  else if (streamed) parts.push(`${streamed.name}: ${streamed.summary}`);
  else if (writing && !isFinal(record.state)) parts.push(`writing ${writing.chars.toLocaleString('en-US')} chars`);
  else if (last) parts.push(`${last.name}: ${last.summary}`);
  else if (record.lastText) parts.push(`"${oneLine(record.lastText, 60)}"`);
  if (record.stats.costUsd > 0) parts.push(`$${record.stats.costUsd.toFixed(2)}`);
  parts.push(`${Math.round((now - (record.startedAt ?? record.createdAt)) / 1000)} s`);
  if (!['running', 'queued', 'needs_input'].includes(record.state)) parts.push(record.state);
  // The model's words and the tools it names may hold terminal escapes: the line is printed on terminals (run, the
  // tasks table, MCP clients), so the whole line is shown escaped here, for every sink (oneLine and the tool summaries
  // escape their own text already; escaping is idempotent).
  return shown(parts.join(' · '));
}
