import type { ClaudeEvent } from './events.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);

const cut = (s: string, max: number): string => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, Math.max(0, max - 1))}…` : flat;
};

// A short one-line summary of a tool call's input (Bash: the command, Read: the path, ...), for progress and status.
export function summarizeToolInput(name: string, input: unknown, max = 80): string {
  const o = obj(input);
  if (!o) return cut(typeof input === 'string' ? input : JSON.stringify(input ?? ''), max);
  const pick = (...keys: string[]) => keys.map((k) => o[k]).find((v): v is string => typeof v === 'string');
  let s: string | undefined;
  if (name === 'Bash') s = pick('command');
  else if (['Read', 'Edit', 'Write', 'MultiEdit', 'NotebookEdit'].includes(name)) s = pick('file_path', 'notebook_path', 'path');
  else if (name === 'Grep' || name === 'Glob') s = pick('pattern');
  else if (name === 'WebFetch') s = pick('url');
  else if (name === 'WebSearch') s = pick('query');
  else if (name === 'Task' || name === 'Agent') s = pick('description', 'prompt');
  else if (name.startsWith('mcp__')) s = Object.values(o).find((v): v is string => typeof v === 'string');
  return cut(s ?? JSON.stringify(o), max);
}

// A compact human-readable line for an event, or undefined for events not worth a line.
export function describeEvent(event: ClaudeEvent): string | undefined {
  const e = event as Obj;
  switch (e.type) {
    case 'system':
      if (e.subtype === 'init') return `started · model ${String(e.model ?? '?')}`;
      if (e.subtype === 'api_retry') return `api retry ${String(e.attempt ?? '?')}/${String(e.max_retries ?? '?')} (${String(e.error_status ?? 'connection')})`;
      return undefined;
    case 'assistant': {
      const content = (obj(e.message)?.content as unknown[] | undefined) ?? [];
      const parts = content.map(obj).flatMap((b) => {
        if (b?.type === 'text' && typeof b.text === 'string' && b.text.trim()) return [`text: ${cut(b.text, 100)}`];
        if (b?.type === 'tool_use') return [`tool ${String(b.name)}: ${summarizeToolInput(String(b.name), b.input)}`];
        return [];
      });
      return parts.length ? parts.join(' | ') : undefined;
    }
    case 'user': {
      const content = obj(e.message)?.content;
      const results = Array.isArray(content) ? content.map(obj).filter((b) => b?.type === 'tool_result') : [];
      if (!results.length) return undefined;
      const c = results[0]!.content;
      const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((x) => String(obj(x)?.text ?? '')).join(' ') : '';
      return `tool result${results[0]!.is_error ? ' (error)' : ''}: ${cut(text, 80)}`;
    }
    case 'result':
      return `result ${String(e.subtype)}${e.is_error ? ' (error)' : ''} · ${String(e.num_turns ?? '?')} turns · $${Number(e.total_cost_usd ?? 0).toFixed(4)}`;
    default:
      return undefined;
  }
}
