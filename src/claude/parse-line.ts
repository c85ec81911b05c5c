import type { z } from 'zod';
import { EVENT_SCHEMAS, type ClaudeEvent } from './events.js';

// One stdout line of claude, classified: a modelled event, a valid event of a type we skip on purpose
// (new versions add types), or something unreadable (not JSON, not an object, or a known type that fails its schema).
export type ParsedLine =
  | { kind: 'event'; event: ClaudeEvent }
  | { kind: 'unknown'; type: string; raw: unknown }
  | { kind: 'invalid'; reason: string; preview: string };

const PREVIEW_CHARS = 200;
const MAX_ISSUES = 3;

// Up to three issues as "path: message", e.g. "message.content.0.id: Invalid input: expected string, received
// undefined".
function summarizeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, MAX_ISSUES).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  if (issues.length > MAX_ISSUES) shown.push(`+${issues.length - MAX_ISSUES} more`);
  return shown.join('; ');
}

// Parses and validates one line; never throws.
export function parseEventLine(line: string): ParsedLine {
  const invalid = (reason: string): ParsedLine => ({ kind: 'invalid', reason, preview: line.slice(0, PREVIEW_CHARS) });
  try {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return invalid('not JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('not a JSON object');
    const type = (value as { type?: unknown }).type;
    if (typeof type !== 'string') return invalid('no string "type" field');
    if (!Object.hasOwn(EVENT_SCHEMAS, type)) return { kind: 'unknown', type, raw: value };
    const parsed = EVENT_SCHEMAS[type as keyof typeof EVENT_SCHEMAS].safeParse(value);
    if (!parsed.success)
      return invalid(`${type} event does not match its schema: ${summarizeIssues(parsed.error.issues)}`);
    return { kind: 'event', event: parsed.data };
  } catch (err) {
    return invalid(`parser error: ${err instanceof Error ? err.message : String(err)}`);
  }
}
