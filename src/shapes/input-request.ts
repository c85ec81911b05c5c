import { z } from 'zod';

// A question a task asks its caller (a permission request), as task_status shows it and a record keeps it.
export const InputRequestSchema = z.object({
  request_id: z.string(),
  kind: z.literal('permission'),
  tool: z.string(),
  input: z.unknown(),
  reason: z.string().optional(),
  asked_at: z.string(),
  expires_at: z.string(),
});
export type InputRequest = z.infer<typeof InputRequestSchema>;

// The caller's answer, and who gave it (a client, answer_task, the deadline).
export const InputAnswerSchema = z.object({
  decision: z.enum(['allow', 'deny']),
  message: z.string().optional(),
  by: z.string(),
});
export type InputAnswer = z.infer<typeof InputAnswerSchema>;
