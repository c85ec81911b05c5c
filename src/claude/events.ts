import { z } from 'zod';

// Schemas of claude's stream-json events: loose on purpose (new fields appear in new versions), typed for what we read.
const Usage = z.looseObject({
  input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
  cache_read_input_tokens: z.number().optional(),
  cache_creation_input_tokens: z.number().optional(),
});

const ContentBlock = z.looseObject({ type: z.string() });

export const SystemEvent = z.looseObject({
  type: z.literal('system'),
  subtype: z.string(),
  session_id: z.string().optional(),
  cwd: z.string().optional(),
  model: z.string().optional(),
  tools: z.array(z.string()).optional(),
  mcp_servers: z.array(z.looseObject({ name: z.string(), status: z.string() })).optional(),
  permissionMode: z.string().optional(),
  claude_code_version: z.string().optional(),
  attempt: z.number().optional(),
  max_retries: z.number().optional(),
  retry_delay_ms: z.number().optional(),
  error_status: z.number().nullable().optional(),
});

export const AssistantEvent = z.looseObject({
  type: z.literal('assistant'),
  message: z.looseObject({
    id: z.string().optional(),
    model: z.string().optional(),
    content: z.array(ContentBlock),
    usage: Usage.optional(),
  }),
  parent_tool_use_id: z.string().nullable().optional(),
  session_id: z.string().optional(),
});

export const UserEvent = z.looseObject({
  type: z.literal('user'),
  message: z.looseObject({ content: z.union([z.string(), z.array(ContentBlock)]) }),
  parent_tool_use_id: z.string().nullable().optional(),
  session_id: z.string().optional(),
});

export const ResultEvent = z.looseObject({
  type: z.literal('result'),
  subtype: z.string(),
  is_error: z.boolean(),
  result: z.string().optional(),
  errors: z.array(z.unknown()).optional(),
  api_error_status: z.number().nullable().optional(),
  duration_ms: z.number().optional(),
  duration_api_ms: z.number().optional(),
  num_turns: z.number().optional(),
  session_id: z.string().optional(),
  total_cost_usd: z.number().optional(),
  usage: Usage.optional(),
  modelUsage: z.record(z.string(), z.unknown()).optional(),
  permission_denials: z.array(z.looseObject({ tool_name: z.string().optional(), tool_input: z.unknown().optional() })).optional(),
  terminal_reason: z.string().optional(),
  structured_output: z.unknown().optional(),
});

export const StreamEvent = z.looseObject({ type: z.literal('stream_event'), event: z.unknown() });
export const ControlRequestEvent = z.looseObject({ type: z.literal('control_request'), request_id: z.string().optional(), request: z.unknown() });
export const ControlResponseEvent = z.looseObject({ type: z.literal('control_response'), response: z.unknown() });

export type SystemEvent = z.infer<typeof SystemEvent>;
export type AssistantEvent = z.infer<typeof AssistantEvent>;
export type UserEvent = z.infer<typeof UserEvent>;
export type ResultEvent = z.infer<typeof ResultEvent>;
export type ClaudeEvent = SystemEvent | AssistantEvent | UserEvent | ResultEvent | z.infer<typeof StreamEvent> | z.infer<typeof ControlRequestEvent> | z.infer<typeof ControlResponseEvent>;

// The schema for each event type we model; any other type is recorded and skipped on purpose.
export const EVENT_SCHEMAS: Record<string, z.ZodType<ClaudeEvent>> = {
  system: SystemEvent,
  assistant: AssistantEvent,
  user: UserEvent,
  result: ResultEvent,
  stream_event: StreamEvent,
  control_request: ControlRequestEvent,
  control_response: ControlResponseEvent,
};
