import { z } from 'zod';
import { ModelName } from '../src/engine.js';

// 100000 -> "100,000" without Intl, whose first use costs tens of ms of the server's start-up.
const withCommas = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

// Input fields shared by several tools, each with an error message that says the fix.
export const promptField = (maxChars: number) =>
  z
    .string({
      error: (i) =>
        i.input === undefined ? 'prompt is required: pass the task or question as a string' : 'prompt must be a string',
    })
    .min(1, 'prompt must not be empty')
    .max(
      maxChars,
      `prompt is too long (over ${withCommas(maxChars)} characters); shorten it or point claude at a file instead`,
    )
    .refine((s) => s.trim().length > 0, 'prompt must contain more than white space')
    .refine((s) => !s.includes('\u0000'), 'prompt must not contain NUL characters')
    .describe('The prompt for Claude Code. Passed as data on stdin, never as a command-line option.');

export const ModelField = z
  .string({ error: 'model must be a string such as "haiku", "sonnet" or "opus"' })
  .pipe(ModelName)
  .describe("Model alias or id; default: the tier's model.");

export const CwdField = z
  .string({ error: 'cwd must be a string path' })
  .min(1, 'cwd must not be empty; omit it to use the default root')
  .max(4096, 'cwd is too long')
  .refine((s) => !s.includes('\u0000'), 'cwd must not contain NUL characters')
  .describe("Working directory for claude; must be inside the server's allowed roots. Default: the first root.");

export const SystemPromptField = z
  .string({ error: 'system_prompt must be a string' })
  .max(50_000, 'system_prompt is too long (over 50,000 characters)')
  .refine((s) => !s.includes('\u0000'), 'system_prompt must not contain NUL characters')
  .describe("Extra instructions appended to claude's system prompt.");

export const TierField = z
  .string({ error: 'tier must be a string naming a configured tier' })
  .regex(/^[a-z][a-z0-9_-]*$/, 'tier must be a tier name such as "speed" or "comprehensive"')
  .describe("Configured tier to use instead of the tool's default tier.");

// A per-call ceiling in USD, passed to claude as --max-budget-usd; with tier "auto" it also picks the model.
export const BudgetField = z
  .number({ error: 'max_budget_usd must be a number of US dollars' })
  .positive('max_budget_usd must be > 0')
  .max(1000, 'max_budget_usd must be at most 1000')
  .describe(
    'Spending ceiling in USD for this call: claude stops once its reported cost passes it ' +
      '(--max-budget-usd). With tier "auto" it also picks the strongest model whose estimated cost fits (the ' +
      "result's routed says why).",
  );

export const TaskIdField = z
  .string({
    error: (i) =>
      i.input === undefined ? 'task_id is required: pass an id returned by deep_task' : 'task_id must be a string',
  })
  .regex(/^t_[A-Za-z0-9_-]{4,64}$/, 'task_id must look like "t_..." as returned by deep_task or list_tasks');

// A comparison's id, as compare_tiers returned it.
export const CompareIdField = z
  .string({
    error: (i) =>
      i.input === undefined
        ? 'compare_id is required: pass the id compare_tiers returned'
        : 'compare_id must be a string',
  })
  .regex(/^c_[a-f0-9]{6,32}$/, 'compare_id must look like "c_..." as returned by compare_tiers');

export const waitField = (maxS: number) =>
  z
    .number({ error: 'wait_s must be a number of seconds' })
    .min(0, 'wait_s must be >= 0')
    .max(maxS, `wait_s must be at most ${maxS}; poll again with task_status for longer waits`);

const MAX_SCHEMA_CHARS = 64 * 1024;

// A JSON Schema (an object schema) for the final answer; checked before claude starts.
export const OutputSchemaField = z
  .record(z.string(), z.unknown(), {
    error: 'output_schema must be a JSON Schema object, e.g. {"type":"object","properties":{...}}',
  })
  .superRefine((schema, ctx) => {
    if (schema.type !== 'object')
      ctx.addIssue({
        code: 'custom',
        message: 'output_schema must describe an object: set "type": "object" at the top',
      });
    if (JSON.stringify(schema).length > MAX_SCHEMA_CHARS)
      ctx.addIssue({ code: 'custom', message: `output_schema is too large (over ${MAX_SCHEMA_CHARS} characters)` });
    try {
      z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `output_schema is not a valid JSON Schema: ${(err as Error).message}` });
    }
  })
  .describe(
    'JSON Schema of the answer: claude returns an object that matches it (structuredContent.output), via ' +
      'its StructuredOutput tool.',
  );

// Images sent with the prompt (png, jpeg, gif, webp): a file inside the allowed roots, or base64 data with its type.
export const ImagesField = z
  .array(
    z.union(
      [
        z.strictObject({ path: z.string({ error: 'images[].path must be a string' }).min(1).max(4096) }),
        z.strictObject({
          data: z
            .string({ error: 'images[].data must be base64 text' })
            .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'images[].data must be base64 (no data: prefix)'),
          mimeType: z.enum(['image/png', 'image/jpeg', 'image/gif', 'image/webp'], {
            error: 'images[].mimeType must be image/png, image/jpeg, image/gif or image/webp',
          }),
        }),
      ],
      { error: 'each image is { path } or { data, mimeType }' },
    ),
    { error: 'images must be an array of { path } or { data, mimeType }' },
  )
  .min(1, 'images must not be empty; omit it instead')
  .max(10, 'images takes at most 10 images')
  .describe(
    'Images for claude to look at with the prompt: { path } inside the allowed roots, or { data (base64), mimeType }.',
  );

// snake_case to camelCase, as a type: "max_budget_usd" is "maxBudgetUsd".
type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type CamelKeys<T> = { [K in keyof T as K extends string ? Camel<K> : K]: T[K] };

// A tool's snake_case input (the wire's spelling, which the tools define) in the server's spelling, so a request is
// never copied field by field (the compiler checks the result against the request it is passed as).
export function camelKeys<T extends object>(input: T): CamelKeys<T> {
  const out: Record<string, unknown> = {};
  const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  for (const [k, v] of Object.entries(input)) if (v !== undefined) out[camel(k)] = v;
  return out as CamelKeys<T>;
}
