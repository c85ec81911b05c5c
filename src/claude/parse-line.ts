import { EVENT_SCHEMAS, type ClaudeEvent } from './events.js';

// One stdout line of claude, classified: a modelled event, a valid event of a type we skip on purpose, or something unreadable.
export type ParsedLine =
  | { kind: 'event'; event: ClaudeEvent }
  | { kind: 'unknown'; type: string; raw: unknown }
  | { kind: 'invalid'; reason: string; preview: string };

const preview = (line: string) => line.slice(0, 200);

// Parses and validates one line; never throws.
export function parseEventLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'invalid', reason: 'not JSON', preview: preview(line) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'invalid', reason: 'not a JSON object', preview: preview(line) };
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return { kind: 'invalid', reason: 'no "type" field', preview: preview(line) };
  const schema = EVENT_SCHEMAS[type];
  if (!schema) return { kind: 'unknown', type, raw: value };
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { kind: 'invalid', reason: `${type} event does not match its schema (${issues})`, preview: preview(line) };
  }
  return { kind: 'event', event: parsed.data };
}
