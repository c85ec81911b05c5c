import { isBlock, isSystem, type ClaudeEvent, type UserBlock } from './events.js';
import { asObj, compactJson, KEY_FIELD, oneLine, shown } from './decision-text.js';
import type { ParsedLine } from './parse-line.js';

// The renderings of text for a reader live in decision-text.ts (free of zod, so the board's page can use them too).
export { DECISION_MAX_CHARS, decisionText, oneLine, shown } from './decision-text.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

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
      if (isSystem(event, 'init')) return `started · model ${shown(event.model ?? '?')} · session ${event.session_id}`;
      if (isSystem(event, 'api_retry'))
        return `api retry ${event.attempt}/${event.max_retries} (${event.error_status ?? 'connection'})`;
      if (isSystem(event, 'model_fallback')) return `model fallback → ${shown(event.fallback_model ?? '?')}`;
      if (isSystem(event, 'task_started')) return `task started: ${oneLine(event.description ?? event.task_id, 80)}`;
      if (isSystem(event, 'task_notification'))
        return `task ${event.status}: ${oneLine(event.summary ?? event.task_id, 80)}`;
      if (event.subtype === 'permission_denied') return `permission denied: ${shown(str(event.tool_name) ?? '?')}`;
      return undefined;
    }
    case 'assistant': {
      const parts = event.message.content.flatMap((b) => {
        if (isBlock(b, 'text')) return b.text.trim() ? [`text: ${oneLine(b.text, 100)}`] : [];
        if (isBlock(b, 'tool_use')) return [`tool ${shown(b.name)}: ${summarizeToolInput(b.name, b.input)}`];
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
      const what = tool ? `: ${shown(tool)} ${summarizeToolInput(tool, event.request.input, 60)}` : '';
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
