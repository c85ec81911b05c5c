import { isBlock, isSystem, type ClaudeEvent, type UserBlock } from './events.js';
import type { ParsedLine } from './parse-line.js';

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

// Characters that could hide part of an input from a reader (line breaks, terminal escapes, bidi overrides, zero
// widths): shown escaped in a decision.
// eslint-disable-next-line no-control-regex -- control characters are exactly what this finds
const HIDING = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
// Text as a reader must see it, on a terminal or in a form: those characters escaped (\n, \u{1b}), never acted on.
export function shown(text: string): string {
  return text.replace(HIDING, (c) => ESCAPES[c] ?? `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

// One line (whitespace runs collapsed, control and hiding characters escaped: a summary is printed on terminals), at
// most `max` characters, ending in '…' when cut; never splits a surrogate pair.
export function oneLine(text: string, max: number): string {
  const flat = shown(text.replace(/\s+/g, ' ').trim());
  if (flat.length <= max) return flat;
  if (max <= 0) return '';
  let head = flat.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return `${head}…`;
}

const compactJson = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

// The input field that best says what a built-in tool call does.
const KEY_FIELD: Record<string, string[]> = {
  Bash: ['command'],
  Read: ['file_path'],
  Edit: ['file_path'],
  MultiEdit: ['file_path'],
  Write: ['file_path'],
  NotebookEdit: ['notebook_path', 'file_path'],
  Grep: ['pattern'],
  Glob: ['pattern'],
  WebFetch: ['url'],
  WebSearch: ['query'],
  Task: ['description', 'prompt'],
  Agent: ['description', 'prompt'],
};

// A short one-line summary of a tool call's input (Bash: the command, Read: the path, ...), for progress lines.
export function summarizeToolInput(name: string, input: unknown, max = 80): string {
  const o = asObj(input);
  if (!o) return oneLine(typeof input === 'string' ? input : input === undefined ? '' : compactJson(input), max);
  const keys = KEY_FIELD[name];
  let picked: string | undefined;
  if (keys) picked = keys.map((k) => str(o[k])).find((v) => v !== undefined);
  else if (name.startsWith('mcp__')) picked = Object.values(o).find((v): v is string => typeof v === 'string');
  return oneLine(picked ?? compactJson(o), max);
}

// The longest rendering of an input a question shows whole (an elicitation, task_status): a page of text; beyond it the
// head and tail, and the structured input_request of task_status carries it all.
export const DECISION_MAX_CHARS = 8000;

// A tool call's input as a person who decides on it must see it: all of it as JSON (where the command ends is never in
// doubt), the field that says what it does first (Bash: the command), nothing collapsed or hidden. Longer than
// `max`: its head and its tail around " … ", and the note "(shortened, N chars)". The one rendering of an input for
// a decision.
export function decisionText(name: string, input: unknown, max = Number.POSITIVE_INFINITY): string {
  const o = asObj(input);
  const key = o && (KEY_FIELD[name] ?? []).find((k) => Object.hasOwn(o, k));
  const whole = typeof input === 'string' ? input : compactJson(input ?? null);
  const raw = o && key ? compactJson({ [key]: o[key], ...o }) : whole;
  const text = shown(raw);
  if (text.length <= max) return text;
  const note = ` (shortened, ${text.length.toLocaleString('en-US')} chars)`;
  const room = Math.max(2, max - note.length - 3);
  let head = text.slice(0, Math.ceil(room / 2));
  let tail = text.slice(text.length - Math.floor(room / 2));
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  if (/^[\uDC00-\uDFFF]/.test(tail)) tail = tail.slice(1);
  return `${head} … ${tail}${note}`;
}

// The text of a tool_result's content (a string, or text blocks among others).
function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((b) => str(asObj(b)?.text) ?? `[${str(asObj(b)?.type) ?? '?'}]`).join(' ');
}

function describeToolResults(blocks: UserBlock[]): string | undefined {
  const results = blocks.filter((b) => isBlock(b, 'tool_result'));
  const first = results[0];
  if (!first) return undefined;
  const failed = results.filter((b) => b.is_error === true).length;
  const plural = results.length > 1 ? 's' : '';
  const errors = failed ? ` (${failed} error)` : '';
  return `tool result${plural}${errors}: ${oneLine(toolResultText(first.content), 80)}`;
}

// A compact one-line description of an event for a task's "recent events" list, or undefined for noise
// (stream deltas, status pings, prompt echoes).
export function describeEvent(event: ClaudeEvent): string | undefined {
  switch (event.type) {
    case 'system': {
      if (isSystem(event, 'init')) return `started · model ${event.model ?? '?'} · session ${event.session_id}`;
      if (isSystem(event, 'api_retry'))
        return `api retry ${event.attempt}/${event.max_retries} (${event.error_status ?? 'connection'})`;
      if (isSystem(event, 'model_fallback')) return `model fallback → ${event.fallback_model ?? '?'}`;
      if (isSystem(event, 'task_started')) return `task started: ${oneLine(event.description ?? event.task_id, 80)}`;
      if (isSystem(event, 'task_notification'))
        return `task ${event.status}: ${oneLine(event.summary ?? event.task_id, 80)}`;
      if (event.subtype === 'permission_denied') return `permission denied: ${str(event.tool_name) ?? '?'}`;
      return undefined;
    }
    case 'assistant': {
      const parts = event.message.content.flatMap((b) => {
        if (isBlock(b, 'text')) return b.text.trim() ? [`text: ${oneLine(b.text, 100)}`] : [];
        if (isBlock(b, 'tool_use')) return [`tool ${b.name}: ${summarizeToolInput(b.name, b.input)}`];
        if (isBlock(b, 'thinking')) return b.thinking.trim() ? [`thinking: ${oneLine(b.thinking, 60)}`] : [];
        return [];
      });
      return parts.length ? parts.join(' | ') : undefined;
    }
    case 'user':
      return typeof event.message.content === 'string' ? undefined : describeToolResults(event.message.content);
    case 'result': {
      const cost = `$${(event.total_cost_usd ?? 0).toFixed(4)}`;
      const turns = `${event.num_turns ?? '?'} turns`;
      const head = `result ${event.subtype}${event.is_error ? ' (error)' : ''} · ${turns} · ${cost}`;
      if (!event.is_error) return head;
      // An interrupted turn's text is claude's internal diagnostic line: the reason says it all.
      if (event.terminal_reason?.startsWith('aborted')) return `${head} · interrupted (${event.terminal_reason})`;
      const reason = event.terminal_reason && event.terminal_reason !== 'completed' ? event.terminal_reason : undefined;
      const why = [reason, event.result ?? event.errors?.join('; ')].filter((s) => !!s).join(': ');
      return why ? `${head} · ${oneLine(why, 80)}` : head;
    }
    case 'control_request': {
      const tool = str(event.request.tool_name);
      const what = tool ? `: ${tool} ${summarizeToolInput(tool, event.request.input, 60)}` : '';
      return `control request ${event.request.subtype}${what}`;
    }
    case 'control_response': {
      const id = event.response.request_id ? ` (${event.response.request_id})` : '';
      return `control response ${event.response.subtype}${id}`;
    }
    default:
      return undefined;
  }
}

// Lines claude-tiers itself writes into a task's event log for output it could not keep as is.
export const INVALID_LINE = 'claude_tiers_invalid_line';
export const OVERSIZED_LINE = 'claude_tiers_oversized_line';

// One line of a task's event log as the caller sees it, the same whether it comes from memory or from disk.
export function describeLogLine(parsed: ParsedLine): string | undefined {
  if (parsed.kind === 'event') return describeEvent(parsed.event);
  if (parsed.kind === 'invalid') return `unreadable output: ${oneLine(parsed.preview, 80)}`;
  const raw = asObj(parsed.raw) ?? {};
  if (parsed.type === INVALID_LINE) return `unreadable output: ${oneLine(str(raw.preview) ?? '', 80)}`;
  if (parsed.type === OVERSIZED_LINE)
    return `oversized output line (${String(raw.bytes)} bytes) skipped: ${oneLine(str(raw.preview) ?? '', 80)}`;
  return undefined;
}
