import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { isAlive, serverEnv, sleep, startHttpServer, waitFor } from '../test/support/harness.js';
import type { ScriptedApi } from '../test/support/scripted-api.js';
import { median, round } from './stats.js';

const TOKEN = 'bench-failover-token-0123456789';

interface Peer {
  stateDir: string;
  pid: number;
  call(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

async function peer(api: ScriptedApi, redisUrl: string, config: string): Promise<Peer> {
  const { env, stateDir } = await serverEnv(api, {
    env: {
      CLAUDE_TIERS_CONFIG: config,
      CLAUDE_TIERS_HTTP_TOKEN: TOKEN,
      CLAUDE_TIERS_MAX_RUNNING: '1',
      CLAUDE_TIERS_LOG_LEVEL: 'warn',
      CLAUDE_TIERS_REDIS_URL: redisUrl,
    },
  });
  const http = await startHttpServer(env);
  const client = new Client({ name: 'bench-failover', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(http.url), {
      requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    }),
  );
  return {
    stateDir,
    pid: http.proc.pid!,
    call: async (name, args) =>
      (await client.callTool({ name, arguments: args })).structuredContent as Record<string, unknown>,
    close: async () => {
      await client.close().catch(() => {});
      if (isAlive(http.proc.pid!)) await http.close();
    },
  };
}

const long = (i: number) => `f${i} [[bash:echo x; sleep 300]]`;

// Cross-server kill and failover, two servers with one slot each: kill_task through the one server for a task the
// other runs (call to `killed`), then the time from SIGKILLing a server to its running task showing `lost`.
export async function benchFailover(
  api: ScriptedApi,
  redisUrl: string,
  config: string,
  rounds = 5,
): Promise<Record<string, number>> {
  const peers = [await peer(api, redisUrl, config), await peer(api, redisUrl, config)];
  try {
    // A task that holds one server's slot: every later task runs on the other.
    const blocker = (await peers[0]!.call('deep_task', { prompt: long(0), wait_s: 0 })).task_id as string;
    const ranBy = (id: string) => peers.find((p) => existsSync(join(p.stateDir, 'tasks', id)));
    const holder = (await waitFor(() => ranBy(blocker), 30_000))!;
    const other = peers.find((p) => p !== holder)!;
    const kills: number[] = [];
    const startOnOther = async (i: number) => {
      const id = (await holder.call('deep_task', { prompt: long(i), wait_s: 0 })).task_id as string;
      await waitFor(
        async () =>
          (await holder.call('task_status', { task_id: id, tail: 0 })).state === 'running' && ranBy(id) === other,
        30_000,
        50,
      );
      await sleep(300);
      return id;
    };
    for (let i = 1; i <= rounds; i++) {
      const id = await startOnOther(i);
      const t = performance.now();
      const v = await holder.call('kill_task', { task_id: id });
      if (v.state !== 'killed') throw new Error(`kill through the other server: ${String(v.state)}`);
      kills.push(performance.now() - t);
    }
    const victim = await startOnOther(rounds + 1);
    process.kill(other.pid, 'SIGKILL');
    const t = performance.now();
    await waitFor(
      async () => (await holder.call('task_status', { task_id: victim, tail: 0 })).state === 'lost',
      60_000,
      100,
    );
    const lostS = (performance.now() - t) / 1000;
    await holder.call('kill_task', { task_id: blocker });
    return {
      cross_server_kill_ms_median: round(median(kills)),
      cross_server_kill_ms_max: round(Math.max(...kills)),
      lost_after_sigkill_s: round(lostS, 2),
    };
  } finally {
    for (const p of peers) await p.close();
  }
}
