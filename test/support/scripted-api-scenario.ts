// What one request to the scripted API should get, decided from markers in the conversation's first user message.
export type Reply =
  | { kind: 'text'; text: string; chunk: number; delayMs: number; usage: [number, number] }
  | { kind: 'tool'; name: string; input: unknown; usage: [number, number] }
  | { kind: 'error'; status: number }
  | { kind: 'hang' }
  | { kind: 'stall' }
  | { kind: 'cut' }
  | { kind: 'malformed' };

export interface Marker {
  name: string;
  arg: string;
}

const MARKER = /\[\[([a-z-]+)(?::(.*?))?\]\](?!\])/gs;

// All [[name:arg]] markers in a text, in order.
export function findMarkers(text: string): Marker[] {
  return [...text.matchAll(MARKER)].map((m) => ({ name: m[1]!, arg: m[2] ?? '' }));
}

type Block = { type?: string; text?: string; content?: unknown };

function blocksOf(content: unknown): Block[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? (content as Block[]) : [];
}

// Plain text of a message's text blocks.
export function textOf(content: unknown): string {
  return blocksOf(content)
    .filter((b) => b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text)
    .join('\n');
}

// The user's own words: text blocks without claude's <system-reminder> wrappers.
export function userWords(content: unknown): string {
  return textOf(content)
    .replace(/<system-reminder>[\s\S]*?<\/system-reminder>/g, '')
    .trim();
}

function toolResults(messages: Array<{ role?: string; content?: unknown }>): Block[] {
  return messages.flatMap((m) =>
    m.role === 'user' ? blocksOf(m.content).filter((b) => b.type === 'tool_result') : [],
  );
}

function resultText(b: Block | undefined): string {
  if (!b) return '';
  return typeof b.content === 'string' ? b.content : textOf(b.content);
}

// Decides the reply for one request body: stateless, so concurrent claude processes never interfere.
export function decideReply(body: {
  model?: string;
  messages?: Array<{ role?: string; content?: unknown }>;
  tools?: unknown[];
}): Reply {
  const messages = body.messages ?? [];
  const first = messages.find((m) => m.role === 'user');
  const prompt = userWords(first?.content);
  const markers = findMarkers(textOf(first?.content));
  const model = body.model ?? '';
  const has = (name: string) => markers.find((m) => m.name === name);
  const usageMarker = has('usage');
  const usage: [number, number] = usageMarker
    ? (usageMarker.arg.split(',').map((n) => Number(n) || 0) as [number, number])
    : [12, 8];
  for (const m of markers) {
    if (m.name === 'error') return { kind: 'error', status: Number(m.arg) || 500 };
    if (m.name === 'error-model') {
      const [sub, status] = m.arg.split(':');
      if (sub && model.includes(sub)) return { kind: 'error', status: Number(status) || 529 };
    }
  }
  if (has('hang')) return { kind: 'hang' };
  if (has('stall')) return { kind: 'stall' };
  if (has('cut')) return { kind: 'cut' };
  if (has('malformed')) return { kind: 'malformed' };
  const results = toolResults(messages);
  // Requests without tools (claude's side requests, e.g. titles) never get a tool_use.
  const toolsOffered = Array.isArray(body.tools) && body.tools.length > 0;
  const repeat = has('repeat-bash');
  if (repeat && toolsOffered)
    return { kind: 'tool', name: 'Bash', input: { command: repeat.arg, description: 'scripted' }, usage };
  const steps = markers.filter((m) => m.name === 'bash' || m.name === 'tool');
  if (toolsOffered && results.length < steps.length) {
    const step = steps[results.length]!;
    if (step.name === 'bash')
      return { kind: 'tool', name: 'Bash', input: { command: step.arg, description: 'scripted' }, usage };
    const colon = step.arg.indexOf(':');
    const name = colon < 0 ? step.arg : step.arg.slice(0, colon);
    let input: unknown;
    try {
      input = colon < 0 ? {} : JSON.parse(step.arg.slice(colon + 1));
    } catch {
      input = { value: step.arg.slice(colon + 1) };
    }
    return { kind: 'tool', name, input, usage };
  }
  const chunk = Number(has('chunk')?.arg) || 0;
  const delayMs = Number(has('delay')?.arg) || 0;
  const len = Number(has('len')?.arg) || 0;
  let text: string;
  const textMarker = has('text');
  if (textMarker) text = textMarker.arg;
  else if (len) text = 'abcdefghij'.repeat(Math.ceil(len / 10)).slice(0, len);
  else if (steps.length || repeat) text = `done: ${resultText(results[results.length - 1]).slice(0, 200)}`;
  else
    text = `ok: ${prompt
      .replace(/\[\[.*?\]\]/g, '')
      .trim()
      .slice(0, 80)}`;
  return { kind: 'text', text, chunk, delayMs, usage };
}
