import { z } from 'zod';

// Schemas of claude's stream-json events (checked against 2.1.330): loose on purpose, since new fields and
// new variants appear in new versions, but typed for the fields we read. Only identity fields are required.

type Out<T> = T extends z.ZodType ? z.output<T> : never;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// Checks an object with the schema its `key` selects (unmodelled values use `fallback`), so a malformed known
// variant reports its own issues rather than a union's "no option matched".
function byKey<const S extends Record<string, z.ZodType>, F extends z.ZodType>(key: string, known: S, fallback: F) {
  return z
    .custom<Out<S[keyof S]> | z.output<F>>(isRecord, { message: 'expected an object' })
    .superRefine((value, ctx) => {
      const k = (value as Record<string, unknown>)[key];
      const schema: z.ZodType = typeof k === 'string' && Object.hasOwn(known, k) ? known[k]! : fallback;
      const parsed = schema.safeParse(value);
      if (!parsed.success)
        for (const issue of parsed.error.issues)
          ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    });
}

const num = z.number().nullish();
const str = z.string().nullish();

// Token counts as the Messages API reports them (assistant message.usage, result.usage).
export const Usage = z.looseObject({
  input_tokens: num,
  output_tokens: num,
  cache_read_input_tokens: num,
  cache_creation_input_tokens: num,
});

// Content blocks of an assistant message: one finished block per assistant event.
export const TextBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
export const ToolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
});
export const ThinkingBlock = z.looseObject({ type: z.literal('thinking'), thinking: z.string(), signature: str });
const OtherBlock = z.looseObject({ type: z.string() });
const AssistantBlock = byKey('type', { text: TextBlock, tool_use: ToolUseBlock, thinking: ThinkingBlock }, OtherBlock);

// Blocks of a user message that claude echoes: tool results (content is a string or text/image blocks).
export const ToolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  is_error: z.boolean().nullish(),
  content: z.union([z.string(), z.array(OtherBlock)]).nullish(),
});
const UserBlock = byKey('type', { text: TextBlock, tool_result: ToolResultBlock }, OtherBlock);

const base = { session_id: z.string().optional(), uuid: z.string().optional() };
const sys = <S extends string>(subtype: S) => ({ type: z.literal('system'), subtype: z.literal(subtype), ...base });

// system/init: emitted at the start of every turn.
export const SystemInit = z.looseObject({
  ...sys('init'),
  session_id: z.string(),
  cwd: str,
  model: str,
  tools: z.array(z.string()).nullish(),
  mcp_servers: z.array(z.looseObject({ name: z.string(), status: z.string() })).nullish(),
  permissionMode: str,
  claude_code_version: str,
});
// system/api_retry: claude is waiting to retry a failed API call (error is a category such as "overloaded").
export const SystemApiRetry = z.looseObject({
  ...sys('api_retry'),
  attempt: z.number(),
  max_retries: z.number(),
  retry_delay_ms: num,
  error_status: num,
  error: str,
});
// system/model_fallback: --fallback-model took over (trigger is e.g. "overloaded").
export const SystemModelFallback = z.looseObject({
  ...sys('model_fallback'),
  trigger: str,
  original_model: str,
  fallback_model: str,
  content: str,
});
// system/task_started and task_notification: a background-capable task (e.g. a slow Bash command) began or ended.
export const SystemTaskStarted = z.looseObject({
  ...sys('task_started'),
  task_id: z.string(),
  tool_use_id: str,
  description: str,
  task_type: str,
});
export const SystemTaskNotification = z.looseObject({
  ...sys('task_notification'),
  task_id: z.string(),
  tool_use_id: str,
  status: z.string(),
  summary: str,
});
// system/status: e.g. "requesting" while an API call is in flight.
export const SystemStatus = z.looseObject({ ...sys('status'), status: z.string().nullish() });
const SystemOther = z.looseObject({ type: z.literal('system'), subtype: z.string(), ...base });

export const SystemEvent = byKey(
  'subtype',
  {
    init: SystemInit,
    api_retry: SystemApiRetry,
    model_fallback: SystemModelFallback,
    task_started: SystemTaskStarted,
    task_notification: SystemTaskNotification,
    status: SystemStatus,
  },
  SystemOther,
);

// One finished content block of the model's answer; synthetic API-error messages have model "<synthetic>" and a
// top-level error.
export const AssistantEvent = z.looseObject({
  type: z.literal('assistant'),
  message: z.looseObject({
    id: str,
    model: str,
    content: z.array(AssistantBlock),
    usage: Usage.nullish(),
    stop_reason: str,
  }),
  parent_tool_use_id: str,
  error: str,
  ...base,
});

// Tool results fed back to the model; tool_use_result is the tool's structured output (shape per tool, or an error
// string).
export const UserEvent = z.looseObject({
  type: z.literal('user'),
  message: z.looseObject({ role: str, content: z.union([z.string(), z.array(UserBlock)]) }),
  parent_tool_use_id: str,
  tool_use_result: z.unknown().optional(),
  ...base,
});

const ModelUsage = z.record(
  z.string(),
  z.looseObject({
    inputTokens: num,
    outputTokens: num,
    cacheReadInputTokens: num,
    cacheCreationInputTokens: num,
    costUSD: num,
  }),
);

// The end of a turn. Cost and modelUsage are running totals in a long-lived process; model_usage_since_last_result is
// per turn.
export const ResultEvent = z.looseObject({
  type: z.literal('result'),
  subtype: z.string(),
  is_error: z.boolean(),
  result: str,
  errors: z.array(z.string()).nullish(),
  api_error_status: num,
  duration_ms: num,
  duration_api_ms: num,
  num_turns: num,
  total_cost_usd: num,
  usage: Usage.nullish(),
  modelUsage: ModelUsage.nullish(),
  model_usage_since_last_result: ModelUsage.nullish(),
  permission_denials: z
    .array(z.looseObject({ tool_name: z.string(), tool_use_id: str, tool_input: z.unknown() }))
    .nullish(),
  terminal_reason: str,
  stop_reason: str,
  structured_output: z.unknown().optional(),
  ...base,
});

// Raw SSE events (with --include-partial-messages).
export const StreamEvent = z.looseObject({
  type: z.literal('stream_event'),
  event: z.looseObject({ type: z.string() }),
  parent_tool_use_id: str,
  ...base,
});
// A request from claude to the host, e.g. can_use_tool with --permission-prompt-tool stdio.
export const ControlRequestEvent = z.looseObject({
  type: z.literal('control_request'),
  request_id: z.string(),
  request: z.looseObject({ subtype: z.string() }),
});
// The answer to a control_request the host sent (e.g. interrupt).
export const ControlResponseEvent = z.looseObject({
  type: z.literal('control_response'),
  response: z.looseObject({ subtype: z.string(), request_id: str }),
});

export type Usage = z.infer<typeof Usage>;
export type TextBlock = z.infer<typeof TextBlock>;
export type ToolUseBlock = z.infer<typeof ToolUseBlock>;
export type ThinkingBlock = z.infer<typeof ThinkingBlock>;
export type ToolResultBlock = z.infer<typeof ToolResultBlock>;
export type SystemInit = z.infer<typeof SystemInit>;
export type SystemApiRetry = z.infer<typeof SystemApiRetry>;
export type SystemModelFallback = z.infer<typeof SystemModelFallback>;
export type SystemTaskStarted = z.infer<typeof SystemTaskStarted>;
export type SystemTaskNotification = z.infer<typeof SystemTaskNotification>;
export type SystemStatus = z.infer<typeof SystemStatus>;
export type SystemEvent = z.infer<typeof SystemEvent>;
export type AssistantEvent = z.infer<typeof AssistantEvent>;
export type UserEvent = z.infer<typeof UserEvent>;
export type ResultEvent = z.infer<typeof ResultEvent>;
export type StreamEvent = z.infer<typeof StreamEvent>;
export type ControlRequestEvent = z.infer<typeof ControlRequestEvent>;
export type ControlResponseEvent = z.infer<typeof ControlResponseEvent>;
export type AssistantBlock = AssistantEvent['message']['content'][number];
export type UserBlock = Exclude<UserEvent['message']['content'], string>[number];

// Every event we model, discriminated by `type`.
export type ClaudeEvent =
  SystemEvent | AssistantEvent | UserEvent | ResultEvent | StreamEvent | ControlRequestEvent | ControlResponseEvent;

// The schema for each event type we model; any other type is recorded and skipped on purpose.
export const EVENT_SCHEMAS = {
  system: SystemEvent,
  assistant: AssistantEvent,
  user: UserEvent,
  result: ResultEvent,
  stream_event: StreamEvent,
  control_request: ControlRequestEvent,
  control_response: ControlResponseEvent,
} satisfies Record<ClaudeEvent['type'], z.ZodType<ClaudeEvent>>;

interface SystemBySubtype {
  init: SystemInit;
  api_retry: SystemApiRetry;
  model_fallback: SystemModelFallback;
  task_started: SystemTaskStarted;
  task_notification: SystemTaskNotification;
  status: SystemStatus;
}

// Narrows to one system subtype (a plain `subtype ===` check cannot, as unmodelled subtypes are typed `string`).
export function isSystem<K extends keyof SystemBySubtype>(event: ClaudeEvent, subtype: K): event is SystemBySubtype[K] {
  return event.type === 'system' && event.subtype === subtype;
}

interface BlockByType {
  text: TextBlock;
  tool_use: ToolUseBlock;
  thinking: ThinkingBlock;
  tool_result: ToolResultBlock;
}

// Narrows a content block to one type, for the same reason as isSystem.
export function isBlock<K extends keyof BlockByType>(block: { type: string }, type: K): block is BlockByType[K] {
  return block.type === type;
}
