import { randomUUID } from 'node:crypto';
import type { Server, ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import { toolsFor } from '../../tools/index.js';
import type { ProgressUpdate, ToolDefinition } from '../../tools/define-tool.js';
import { LOCAL_PRINCIPAL, listedOutputSchema, type Engine, type Viewer } from '../engine.js';
import type { OnDemand } from '../on-demand.js';
import { ToolError } from '../errors.js';
import { VERSION } from '../version.js';
import { registerTaskResources, type ResourceUpdates } from './resources.js';
import { errorResult, toCallResult } from './call-result.js';
import {
  declaresTasks,
  registerTaskMethods,
  TaskAwareServer,
  taskHandle,
  TASKS_CAPABILITY,
} from './tasks-extension.js';
import { applyInputResponses, askClient, canElicit, resumedTask } from './input.js';
import { registerPrompts } from './prompts.js';
import { boardToolMeta } from '../board/app-resource.js';
import { callTool, parseToolInput } from '../../tools/call-tool.js';

type AnyTool = ToolDefinition<z.ZodType, z.ZodType | undefined>;

const listed = (tool: AnyTool) => ({
  name: tool.name,
  title: tool.title,
  description: tool.description,
  inputSchema: z.toJSONSchema(tool.inputSchema, { io: 'input', unrepresentable: 'any' }) as {
    type: 'object';
    [k: string]: unknown;
  },
  ...(tool.outputSchema ? { outputSchema: listedOutputSchema(tool.outputSchema) } : {}),
  annotations: { title: tool.title, ...tool.annotations },
  ...(tool.showsBoard ? { _meta: boardToolMeta } : {}),
});

// Builds the progress sender for one request, or undefined when the request carried no progressToken.
function progressFor(ctx: ServerContext): ((u: ProgressUpdate) => Promise<void>) | undefined {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return undefined;
  return async (u) => {
    try {
      await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, ...u } });
    } catch {
      /* the client went away; the tool result will fail the same way */
    }
  };
}

// One MCP server instance (per connection or HTTP session) over the shared engine; dispose closes only this instance.
// The engine may still be on its way (stdio start-up): tools/list needs only the config, calls wait for the engine.
export function createServer(
  config: Config,
  ready: OnDemand<Engine>,
  options: {
    clientId?: string;
    viewer?: Viewer;
    rateKey?: string;
    resourceUpdates?: ResourceUpdates;
    onToolsListed?: () => void;
    /** Convert the tool schemas as soon as the handshake is answered, while the client reads it (stdio start-up). */
    listEarly?: boolean;
  } = {},
): { server: Server; dispose: () => Promise<void> } {
  const server = new TaskAwareServer(
    { name: 'claude-tiers', version: VERSION, title: 'Claude Code, tiered' },
    {
      capabilities: {
        tools: {},
        extensions: TASKS_CAPABILITY,
        resources: options.resourceUpdates === 'none' ? {} : { subscribe: true },
        prompts: {},
        completions: {},
      },
      instructions:
        'quick_answer: fast synchronous answers (speed tier). deep_task: long Claude Code tasks ' +
        '(comprehensive tier) that return a task id; ' +
        'follow them with task_status (long-poll with wait_s), list_tasks, and stop them with kill_task.',
    },
  );
  const byName = new Map<string, AnyTool>((toolsFor(config.limits) as AnyTool[]).map((t) => [t.name, t]));
  const clientId = options.clientId ?? randomUUID();
  const viewer: Viewer = options.viewer ?? { principal: LOCAL_PRINCIPAL, admin: false };
  let tools: ReturnType<typeof listed>[] | undefined;
  const listTools = () => (tools ??= [...byName.values()].map(listed));
  // The server is made on the client's first message: once that is answered, the client's tools/list is a round trip
  // away, and the server would wait idle for it.
  if (options.listEarly) setImmediate(listTools);
  server.setRequestHandler('tools/list', async () => {
    // The schemas are converted once per server; onToolsListed runs once the answer is written.
    const listedTools = listTools();
    if (options.onToolsListed) setImmediate(options.onToolsListed);
    return { tools: listedTools };
  });
  server.setRequestHandler('tools/call', async (request, ctx) => {
    const engine = await ready.get();
    const name = request.params.name;
    const tool = byName.get(name);
    if (!tool) return errorResult(`Unknown tool "${name}". Available tools: ${[...byName.keys()].join(', ')}.`);
    const input = parseToolInput(tool, request.params.arguments);
    if (!input.ok) {
      engine.log.info({ tool: name }, 'tool input rejected');
      return errorResult(input.message);
    }
    const rateKey = options.rateKey ?? clientId;
    const call = { signal: ctx.mcpReq.signal, progress: progressFor(ctx), clientId, viewer, rateKey };
    try {
      if (tool.taskInput && declaresTasks(ctx)) {
        // Native MCP task: start it, answer with a handle; a refused start stays an ordinary tool error.
        const taskInput = tool.taskInput(input.data as never);
        const started = await callTool(tool, taskInput, engine, { ...call, progress: undefined });
        const id = started.structured?.task_id;
        const record = typeof id === 'string' ? engine.tasks.peek(id) : undefined;
        return started.isError || !record ? toCallResult(started) : taskHandle(record);
      }
      // Answers to permission requests this call asked about (a retried call), then the call; a result that shows an
      // open request becomes input_required when the client can answer elicitations.
      const answered = ctx.mcpReq.inputResponses;
      const result = await callTool(tool, input.data, engine, call, async () => {
        if (answered) await applyInputResponses(engine.tasks, answered, viewer, `client ${clientId}`);
        return tool.asksCaller ? resumedTask(engine.tasks, ctx, clientId) : undefined;
      });
      const ask = tool.asksCaller && canElicit(server, ctx) ? askClient(result, answered) : undefined;
      return ask ?? toCallResult(result);
    } catch (err) {
      if (err instanceof ToolError) return errorResult(err.message);
      engine.log.error({ err, tool: name }, 'tool failed unexpectedly');
      return errorResult(
        `${name} failed: ${(err as Error)?.message ?? String(err)}. The server is still running; this is a ` +
          `bug, please report it with the server log.`,
      );
    }
  });
  registerTaskMethods(server, ready, clientId, viewer);
  registerPrompts(server, ready, viewer);
  const disposeResources = registerTaskResources(server, ready, viewer, options.resourceUpdates);
  return {
    server,
    dispose: () => {
      disposeResources();
      return server.close();
    },
  };
}
