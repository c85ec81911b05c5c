import { summarizeToolInput } from '../claude/summarize.js';
import type { TaskRecord } from './types.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const MAX_TOOLS = 30;
const TEXT_TAIL = 8 * 1024;
const LAST_TEXT = 2000;
const MAX_DENIALS = 20;

// A message's usage grows while it streams (partial messages): count only what is new since the last look.
function countOutput(record: TaskRecord, messageId: string | undefined, output: number): void {
  if (!messageId || messageId !== record.stats.lastMessageId) return;
  const seen = record.stats.lastMessageOutput ?? 0;
  if (output > seen) {
    record.stats.outputTokens += output - seen;
    record.stats.lastMessageOutput = output;
  }
}

// Folds one validated stream-json event into a task's record (what the caller sees of it is summarize's describeEvent).
export function applyEvent(record: TaskRecord, event: Obj, now: number): void {
  record.stats.events++;
  record.stats.lastEventAt = now;
  const type = str(event.type);
  if (type === 'system') {
    const subtype = str(event.subtype);
    if (subtype === 'init') {
      record.sessionId = str(event.session_id) ?? record.sessionId;
    }
    if (subtype === 'api_retry') {
      record.stats.apiRetries++;
    }
    if (subtype === 'model_fallback') {
      record.fallbackModel = str(event.fallback_model) ?? str(event.to_model) ?? str(event.model) ?? 'fallback';
    }
    return;
  }
  if (type === 'assistant') {
    const message = obj(event.message);
    const usage = obj(message?.usage);
    const messageId = str(message?.id);
    const newTurn = !event.parent_tool_use_id && (!messageId || messageId !== record.stats.lastMessageId);
    if (newTurn) {
      record.stats.turns++;
      record.stats.lastMessageId = messageId;
    }
    if (usage && newTurn) {
      record.stats.inputTokens += num(usage.input_tokens) + num(usage.cache_read_input_tokens) + num(usage.cache_creation_input_tokens);
      record.stats.outputTokens += num(usage.output_tokens);
      record.stats.lastMessageOutput = num(usage.output_tokens);
    } else if (usage && !event.parent_tool_use_id) {
      countOutput(record, messageId, num(usage.output_tokens));
    }
    const content = Array.isArray(message?.content) ? (message.content as unknown[]) : [];
    for (const raw of content) {
      const block = obj(raw);
      if (!block) continue;
      if (block.type === 'text' && typeof block.text === 'string' && block.text.trim()) {
        record.lastText = block.text.slice(-LAST_TEXT);
        record.textTail = (record.textTail ? `${record.textTail}\n` : '') + block.text;
        if (record.textTail.length > TEXT_TAIL) record.textTail = record.textTail.slice(-TEXT_TAIL);
      } else if (block.type === 'tool_use') {
        const name = str(block.name) ?? '?';
        const summary = summarizeToolInput(name, block.input, 80);
        record.stats.toolCalls++;
        record.tools.push({ name, summary, at: now });
        if (record.tools.length > MAX_TOOLS) record.tools.splice(0, record.tools.length - MAX_TOOLS);
      }
    }
    return;
  }
  if (type === 'stream_event') {
    // Partial messages: only message_delta matters here (its usage is the message's output so far).
    const inner = obj(event.event);
    const usage = obj(inner?.usage);
    if (inner?.type === 'message_delta' && usage && !event.parent_tool_use_id) countOutput(record, str(event.api_message_id), num(usage.output_tokens));
    return;
  }
  if (type === 'result') {
    const isError = event.is_error === true;
    const subtype = str(event.subtype) ?? 'unknown';
    const errors = Array.isArray(event.errors) ? event.errors.map(String) : undefined;
    record.result = {
      subtype,
      isError,
      text: str(event.result) ?? (errors?.join('; ') ?? ''),
      numTurns: num(event.num_turns),
      durationMs: num(event.duration_ms),
      costUsd: num(event.total_cost_usd),
      terminalReason: str(event.terminal_reason),
      apiErrorStatus: typeof event.api_error_status === 'number' ? event.api_error_status : event.api_error_status === null ? null : undefined,
      errors,
      ...(event.structured_output !== undefined ? { structuredOutput: event.structured_output } : {}),
    };
    record.stats.costUsd = num(event.total_cost_usd);
    record.stats.turns = Math.max(record.stats.turns, num(event.num_turns));
    record.sessionId = str(event.session_id) ?? record.sessionId;
    const usage = obj(event.usage);
    if (usage) {
      record.stats.inputTokens = Math.max(record.stats.inputTokens, num(usage.input_tokens) + num(usage.cache_read_input_tokens) + num(usage.cache_creation_input_tokens));
      record.stats.outputTokens = Math.max(record.stats.outputTokens, num(usage.output_tokens));
    }
    const denials = Array.isArray(event.permission_denials) ? event.permission_denials : [];
    for (const d of denials.slice(0, MAX_DENIALS)) {
      const dd = obj(d);
      if (dd) record.permissionDenials.push({ tool: str(dd.tool_name) ?? '?', input: summarizeToolInput(str(dd.tool_name) ?? '?', dd.tool_input, 80) });
    }
  }
}
