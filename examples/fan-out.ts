import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export interface FanOutOptions {
  prompts: string[];
  /** How to start claude-tiers; default: this package's built server. */
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Where progress lines go (default: stderr). */
  log?: (line: string) => void;
}

export interface FanOutResult {
  task_id: string;
  state: string;
  result: string;
}

// A parent agent of your own: starts several deep_tasks through MCP, follows their progress, collects the results.
export async function fanOut(options: FanOutOptions): Promise<FanOutResult[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const server = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'src', 'index.js');
  const transport = new StdioClientTransport({
    command: options.command ?? process.execPath,
    args: options.args ?? [server],
    env: { ...(process.env as Record<string, string>), ...options.env },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'fan-out-example', version: '1.0.0' });
  await client.connect(transport);
  try {
    const ids: string[] = [];
    for (const prompt of options.prompts) {
      const started = await client.callTool({ name: 'deep_task', arguments: { prompt, wait_s: 0 } });
      const id = (started.structuredContent as { task_id: string }).task_id;
      ids.push(id);
      log(`started ${id}: ${prompt.replace(/\[\[.*?\]\]/g, '').trim()}`);
    }
    // Follow every task with a long-poll that carries a progressToken: progress lines arrive as they happen.
    const lastLine = new Map<number, string>();
    const progress = (n: number, message: string) => {
      if (lastLine.get(n) === message) return;
      lastLine.set(n, message);
      log(`[agent ${n + 1}] ${message}`);
    };
    const results = await Promise.all(
      ids.map(async (id, n) => {
        let view = (await client.callTool({ name: 'task_status', arguments: { task_id: id } })).structuredContent as { state: string; final: boolean; cursor: number; result?: { text: string } };
        while (!view.final) {
          const r = await client.callTool(
            { name: 'task_status', arguments: { task_id: id, wait_s: 20, cursor: view.cursor } },
            { onprogress: (p) => progress(n, p.message ?? ''), timeout: 60_000 },
          );
          view = r.structuredContent as typeof view;
        }
        log(`[agent ${n + 1}] ${view.state}`);
        return { task_id: id, state: view.state, result: view.result?.text ?? '' };
      }),
    );
    return results;
  } finally {
    await client.close();
  }
}

// Run directly: node dist/examples/fan-out.js "task one" "task two" "task three" (uses your real claude and credentials).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const prompts = process.argv.slice(2);
  if (prompts.length === 0) {
    process.stderr.write('usage: node dist/examples/fan-out.js "task one" "task two" "task three"\n');
    process.exit(2);
  }
  fanOut({ prompts }).then(
    (results) => {
      for (const r of results) process.stdout.write(`\n== ${r.task_id} (${r.state})\n${r.result}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
