// How a tool call's input and a model's text are shown to a person: escaped, never acted on by a terminal, and whole
// where a decision hangs on them. Free of zod and node, so the board's page (web/board) renders with the same code.

type Obj = Record<string, unknown>;
// An object's fields, or undefined for anything else.
export const asObj = (v: unknown): Obj | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;

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

// JSON on one line; a value JSON cannot hold (a cycle, a BigInt) as its String().
export const compactJson = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

// The input field that best says what a built-in tool call does.
export const KEY_FIELD: Record<string, string[]> = {
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

// A permission question as the client or server holds it (InputRequest; a view's copy may carry its input_text).
export interface Question {
  tool: string;
  input: unknown;
  reason?: string;
  input_text?: string;
}

// A permission question's parts as the person who decides must read them: the tool's name and claude's reason
// escaped like the input (a task or its model can put terminal escapes, bidi overrides or zero widths in them). The
// input is the view's input_text where a server made one, else rendered here the same way (an older server's view).
export function questionParts(q: Question, max = DECISION_MAX_CHARS): { tool: string; input: string; reason?: string } {
  const input = q.input_text ?? decisionText(q.tool, q.input, max);
  return { tool: shown(q.tool), input, ...(q.reason ? { reason: shown(q.reason) } : {}) };
}

// The question on one line, "Tool {input} (reason)": the one rendering of it for every sink (the CLI's prompt and
// answer, the elicitation, the tool result's text).
export function questionLine(q: Question, max = DECISION_MAX_CHARS): string {
  const p = questionParts(q, max);
  return `${p.tool} ${p.input}${p.reason ? ` (${p.reason})` : ''}`;
}
