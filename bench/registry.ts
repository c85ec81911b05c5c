import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newTaskId } from '../src/tasks/ids.js';
import { TaskStore } from '../src/tasks/store.js';
import type { TaskRecord } from '../src/tasks/types.js';
import type { ScriptedApi } from '../test/support/scripted-api.js';
import { sleep, startServer } from '../test/support/harness.js';
import { report } from './report.js';
import { pct, round, rssMb } from './stats.js';
import { loadConfig } from '../src/config/load.js';
import { createEngine } from '../src/create-engine.js';
import { createLogger } from '../src/log.js';
import { callTool } from '../tools/call-tool.js';
import { taskStatusTool } from '../tools/task-status.js';

// The server starts its background prune this long after start-up (src/tasks/local/recovery.ts), then reads every
// record once: the benchmark measures after it, when the process's CPU time stops growing.
const PRUNE_START_MS = 2000;

// Waits until a process used under 5 % of a core over the last 500 ms (at most 30 s): its start-up work is done.
async function cpuQuiet(pid: number): Promise<void> {
  const cpuMs = () => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  };
  const deadline = Date.now() + 30_000;
  let before = cpuMs();
  while (Date.now() < deadline) {
    await sleep(500);
    const now = cpuMs();
    if (now - before <= 25) return;
    before = now;
  }
}

// The task_status handler alone, in this process, on the same store: what the registry costs without the transport.
async function handlerLatency(stateDir: string, ids: string[]): Promise<number[]> {
  const { config } = loadConfig({ env: { ...process.env, CLAUDE_TIERS_STATE_DIR: stateDir, CLAUDE_TIERS_CONFIG: '' } });
  const engine = await createEngine(config, createLogger('warn'));
  const out: number[] = [];
  const tool = taskStatusTool(engine.config.limits);
  const viewer = { principal: 'local', admin: false };
  try {
    // As over stdio below: the engine's background prune is over and the first calls (JIT) are not counted.
    await sleep(PRUNE_START_MS);
    await cpuQuiet(process.pid);
    for (let i = 0; i < 300; i++) {
      const call = { signal: new AbortController().signal, clientId: 'bench', viewer, rateKey: 'bench' };
      await callTool(tool, { task_id: ids[i]! }, engine, call);
    }
    for (let i = 0; i < 2000; i++) {
      const id = ids[Math.floor(Math.random() * ids.length)]!;
      const t = performance.now();
      const call = { signal: new AbortController().signal, clientId: 'bench', viewer, rateKey: 'bench' };
      await callTool(tool, { task_id: id }, engine, call);
      out.push(performance.now() - t);
    }
  } finally {
    await engine.dispose('bench done');
  }
  return out;
}

function fakeRecord(id: string, at: number, i: number): TaskRecord {
  return {
    version: 1,
    id,
    state: i % 10 === 0 ? 'failed' : 'succeeded',
    createdAt: at,
    startedAt: at,
    endedAt: at + 5000,
    updatedAt: at + 5000,
    request: {
      prompt: `benchmark task ${i}`,
      cwd: '/tmp',
      model: 'opus',
      tier: 'comprehensive',
      timeoutS: 3600,
      idleTimeoutS: 240,
    },
    owner: { serverId: 'bench', pid: 1, startTime: '1' },
    stats: { events: 12, turns: 3, toolCalls: 2, costUsd: 0.01, inputTokens: 1000, outputTokens: 200, apiRetries: 0 },
    tools: [{ name: 'Bash', summary: 'npm test', at }],
    lastText: 'all good',
    textTail: 'all good',
    permissionDenials: [],
    result: { subtype: 'success', isError: false, text: `result ${i}`, numTurns: 3, durationMs: 5000, costUsd: 0.01 },
    end: { reason: 'completed', message: 'completed' },
  };
}

// registry: task_status and list_tasks latency with 10,000 tasks in the store, and the server's RSS.
export async function benchRegistry(api: ScriptedApi, count = 10_000): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'ct-bench-reg-'));
  const store = new TaskStore(stateDir);
  const ids: string[] = [];
  const base = Date.now() - count * 1000;
  for (let i = 0; i < count; i++) {
    const id = newTaskId(base + i * 1000);
    ids.push(id);
    await store.writeRecord(fakeRecord(id, base + i * 1000, i));
  }
  const handler = await handlerLatency(stateDir, ids);
  const s = await startServer(api, { stateDir, env: { CLAUDE_TIERS_LOG_LEVEL: 'warn' } });
  await sleep(PRUNE_START_MS + 1000);
  await cpuQuiet(s.pid); // past the background prune
  // Idle: started, store opened and pruned, no call served yet.
  const idleRss = rssMb(s.pid);
  // A serving server is warm: the first calls (JIT of the tools/call path in both processes) are run but not counted.
  for (let i = 0; i < 300; i++) {
    await s.client.callTool({ name: 'task_status', arguments: { task_id: ids[i]! } });
    if (i % 3 === 0) await s.client.callTool({ name: 'list_tasks', arguments: { limit: 20 } });
    await s.client.ping();
  }
  const status: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const id = ids[Math.floor(Math.random() * ids.length)]!;
    const t = performance.now();
    const r = await s.client.callTool({ name: 'task_status', arguments: { task_id: id } });
    status.push(performance.now() - t);
    if (r.isError) throw new Error(`task_status failed for ${id}`);
  }
  const list: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    await s.client.callTool({ name: 'list_tasks', arguments: { limit: 20 } });
    list.push(performance.now() - t);
  }
  // The floor of any call over stdio on this machine: an MCP ping, which runs no tool code at all.
  const ping: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    await s.client.ping();
    ping.push(performance.now() - t);
  }
  const rss = rssMb(s.pid);
  await s.close();
  const row = (name: string, v: number[]) => ({
    call: name,
    p50_ms: round(pct(v, 50), 2),
    p99_ms: round(pct(v, 99), 2),
    max_ms: round(Math.max(...v), 2),
  });
  report(
    'registry',
    [
      row('task_status (random of 10,000)', status),
      row('list_tasks limit 20', list),
      row('ping (stdio + SDK floor, no tool code)', ping),
      row('task_status handler in-process (no transport)', handler),
    ],
    {
      tasks_in_store: count,
      samples: 'task_status 2000, list_tasks 500, ping 2000, handler 2000; after 300 uncounted warm-up rounds',
      idle_rss_mb: idleRss,
      server_rss_mb: rss,
      target: 'task_status p99 <= 2 ms; idle RSS <= 120 MB',
    },
  );
}
