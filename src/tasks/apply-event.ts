import { isBlock, isSystem, type AssistantEvent, type ClaudeEvent, type ResultEvent } from '../claude/events.js';
import { summarizeToolInput } from '../claude/summarize.js';
import type { TaskRecord } from './types.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
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
export function applyEvent(record: TaskRecord, event: ClaudeEvent, now: number): void {
  record.stats.events++;
  record.stats.lastEventAt = now;
  if (event.type === 'system') {
    if (isSystem(event, 'init')) record.sessionId = event.session_id;
    if (isSystem(event, 'api_retry')) record.stats.apiRetries++;
    if (isSystem(event, 'model_fallback'))
      record.fallbackModel = event.fallback_model ?? str(event.to_model) ?? str(event.model) ?? 'fallback';
    return;
  }
  if (event.type === 'assistant') return applyAssistant(record, event, now);
  if (event.type === 'stream_event') {
    // Partial messages: only message_delta matters here (its usage is the message's output so far).
    const usage = obj(event.event.usage);
    if (event.event.type === 'message_delta' && usage && !event.parent_tool_use_id)
      countOutput(record, str(event.api_message_id), num(usage.output_tokens));
    return;
  }
  if (event.type === 'result') applyResult(record, event);
}

// One finished content block of the answer: its text, or a tool call; and the turn's usage.
function applyAssistant(record: TaskRecord, event: AssistantEvent, now: number): void {
  const { message } = event;
  const usage = message.usage ?? undefined;
  const messageId = message.id ?? undefined;
  const newTurn = !event.parent_tool_use_id && (!messageId || messageId !== record.stats.lastMessageId);
  if (newTurn) {
    record.stats.turns++;
    record.stats.lastMessageId = messageId;
  }
  if (usage && newTurn) {
    record.stats.inputTokens +=
      num(usage.input_tokens) + num(usage.cache_read_input_tokens) + num(usage.cache_creation_input_tokens);
    record.stats.outputTokens += num(usage.output_tokens);
    record.stats.lastMessageOutput = num(usage.output_tokens);
  } else if (usage && !event.parent_tool_use_id) {
    countOutput(record, messageId, num(usage.output_tokens));
  }
  for (const block of message.content) {
    if (isBlock(block, 'text') && block.text.trim()) {
      record.lastText = block.text.slice(-LAST_TEXT);
      record.textTail = (record.textTail ? `${record.textTail}\n` : '') + block.text;
      if (record.textTail.length > TEXT_TAIL) record.textTail = record.textTail.slice(-TEXT_TAIL);
    } else if (isBlock(block, 'tool_use')) {
      record.stats.toolCalls++;
      record.tools.push({ name: block.name, summary: summarizeToolInput(block.name, block.input, 80), at: now });
      if (record.tools.length > MAX_TOOLS) record.tools.splice(0, record.tools.length - MAX_TOOLS);
    }
  }
}

// The end of a turn: its result, cost, totals and permission denials.
function applyResult(record: TaskRecord, event: ResultEvent): void {
  const errors = event.errors ?? undefined;
  record.result = {
    subtype: event.subtype,
    isError: event.is_error,
    text: event.result ?? errors?.join('; ') ?? '',
    numTurns: num(event.num_turns),
    durationMs: num(event.duration_ms),
    costUsd: num(event.total_cost_usd),
    terminalReason: event.terminal_reason ?? undefined,
    apiErrorStatus: event.api_error_status,
    errors,
    ...(event.structured_output !== undefined ? { structuredOutput: event.structured_output } : {}),
  };
  record.stats.costUsd = num(event.total_cost_usd);
  record.stats.turns = Math.max(record.stats.turns, num(event.num_turns));
  record.sessionId = event.session_id ?? record.sessionId;
  const usage = event.usage;
  if (usage) {
    record.stats.inputTokens = Math.max(
      record.stats.inputTokens,
      num(usage.input_tokens) + num(usage.cache_read_input_tokens) + num(usage.cache_creation_input_tokens),
    );
    record.stats.outputTokens = Math.max(record.stats.outputTokens, num(usage.output_tokens));
  }
  for (const d of (event.permission_denials ?? []).slice(0, MAX_DENIALS)) {
    record.permissionDenials.push({ tool: d.tool_name, input: summarizeToolInput(d.tool_name, d.tool_input, 80) });
  }
}
