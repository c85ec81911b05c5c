import { ProtocolError, ProtocolErrorCode, type Server } from '@modelcontextprotocol/server';
import type { Engine, Viewer } from '../engine.js';
import type { OnDemand } from '../on-demand.js';

// MCP prompts: "quick" and "deep" show up as slash commands in clients such as Claude Code, and turn the user's text
// into a request to call quick_answer or deep_task; continue_task_id completes from the caller's recent tasks.
const PROMPTS = [
  {
    name: 'quick',
    title: 'Quick answer (claude-tiers)',
    description: 'Ask Claude Code a quick question through quick_answer (fast model, read-only tools).',
    arguments: [{ name: 'prompt', description: 'The question', required: true }],
  },
  {
    name: 'deep',
    title: 'Deep task (claude-tiers)',
    description: 'Hand a long task to Claude Code through deep_task and follow it with task_status.',
    arguments: [
      { name: 'prompt', description: 'The task', required: true },
      { name: 'continue_task_id', description: "Continue this earlier task's conversation", required: false },
    ],
  },
];

function message(name: string, args: Record<string, string>): string {
  if (name === 'quick')
    return `Call the claude-tiers tool quick_answer with this prompt and give me its answer:\n\n${args.prompt}`;
  const follow = args.continue_task_id ? ` Pass continue_task_id "${args.continue_task_id}".` : '';
  return (
    `Call the claude-tiers tool deep_task with this prompt.${follow} Then follow it with task_status (wait_s ` +
    `30) until it is final, answer any permission request it shows with answer_task, and report its ` +
    `result:\n\n${args.prompt}`
  );
}

// Registers prompts/list, prompts/get and completion/complete (task ids for continue_task_id).
export function registerPrompts(server: Server, ready: OnDemand<Engine>, viewer: Viewer): void {
  server.setRequestHandler('prompts/list', async () => ({ prompts: PROMPTS }));
  server.setRequestHandler('prompts/get', async (request) => {
    const { name } = request.params;
    const args = (request.params.arguments ?? {}) as Record<string, string>;
    const prompt = PROMPTS.find((p) => p.name === name);
    if (!prompt)
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `unknown prompt "${name}"; prompts: quick, deep`);
    if (!args.prompt?.trim())
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `prompt "${name}" needs the argument "prompt"`);
    return {
      description: prompt.description,
      messages: [{ role: 'user', content: { type: 'text', text: message(name, args) } }],
    };
  });
  server.setRequestHandler('completion/complete', async (request) => {
    const { ref, argument } = request.params;
    if (ref.type !== 'ref/prompt' || ref.name !== 'deep' || argument.name !== 'continue_task_id')
      return { completion: { values: [] } };
    const ids = (await (await ready.get()).tasks.list({ limit: 100, viewer }))
      .map((r) => r.id)
      .filter((id) => id.startsWith(argument.value));
    return { completion: { values: ids.slice(0, 100), total: ids.length, hasMore: false } };
  });
}
