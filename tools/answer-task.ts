import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { TaskIdField } from './fields.js';

// Answers a task's permission request (task_status shows it as input_request while the task is needs_input).
export const answerTaskTool = defineTool({
  name: 'answer_task',
  title: 'Answer task',
  description:
    'Answer a permission request of a deep_task that is waiting (state needs_input; task_status shows ' +
    'input_request with the tool and its input). ' +
    '"allow" lets claude run the tool as asked; "deny" refuses it, and message (if given) reaches claude as ' +
    'the reason. Unanswered requests are denied at expires_at.',
  inputSchema: z.strictObject({
    task_id: TaskIdField,
    request_id: z
      .string({ error: 'request_id is required: pass input_request.request_id from task_status' })
      .regex(/^p_[A-Za-z0-9_-]{4,32}$/, 'request_id must look like "p_..." as shown in input_request'),
    decision: z.enum(['allow', 'deny'], { error: 'decision must be "allow" or "deny"' }),
    message: z
      .string({ error: 'message must be a string' })
      .max(2000, 'message must be at most 2000 characters')
      .optional()
      .describe('With deny: the reason claude is given.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  usage: 'answer_task takes { task_id: "t_...", request_id: "p_...", decision: "allow" | "deny", message?: string }',
  handle: (input, ctx) =>
    ctx.tasks.answer(
      input.task_id,
      input.request_id,
      { decision: input.decision, message: input.message, by: `answer_task (${ctx.clientId})` },
      ctx.viewer,
    ),
});
