// Allocation and GC of the built stdio server per task_status call, independent of the machine's load (the registry
// row's p99 is set by scavenges: how often = bytes per call, how long = bytes that survive them).
//   node bench/alloc/drive.mjs bytes [calls]     bytes allocated per call (young space large enough for no GC)
//   node bench/alloc/drive.mjs gc [calls]        scavenges per 1000 calls at the default heap settings
//   node bench/alloc/drive.mjs trace [calls]     --trace-gc-nvp: per scavenge, bytes allocated, survived, promoted
//   node bench/alloc/drive.mjs sample|promoted   sampled heap profile (.heapprofile, for DevTools) of every
//                                                allocation, or of those that outlived the scavenges
// Same store and calls as bench/registry.ts (10,000 finished tasks, random task_status after 300 warm-up calls);
// SERVER=<file> runs another server script instead of dist/src/index.js. Run `npm run build` first.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = process.env.CT_ROOT ?? join(here, '..', '..'); // CT_ROOT: another checkout's build (before/after)
const [mode = 'bytes', callsArg] = process.argv.slice(2);
const calls = Number(callsArg ?? 1000);
const d = (p) => import(join(root, 'dist', p));
const { newTaskId } = await d('src/tasks/ids.js');
const { TaskStore } = await d('src/tasks/store.js');
const { serverEnv, sleep, SERVER_ENTRY } = await d('test/support/harness.js');
const { startScriptedApi } = await d('test/support/scripted-api.js');
const { Client } = await import('@modelcontextprotocol/client');
const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');

// The records of bench/registry.ts.
const record = (id, at, i) => ({
  version: 1,
  id,
  state: i % 10 === 0 ? 'failed' : 'succeeded',
  createdAt: at,
  startedAt: at,
  endedAt: at + 5000,
  updatedAt: at + 5000,
  request: { prompt: `benchmark task ${i}`, cwd: '/tmp', model: 'opus', tier: 'comprehensive', timeoutS: 3600 },
  owner: { serverId: 'bench', pid: 1, startTime: '1' },
  stats: { events: 12, turns: 3, toolCalls: 2, costUsd: 0.01, inputTokens: 1000, outputTokens: 200, apiRetries: 0 },
  tools: [{ name: 'Bash', summary: 'npm test', at }],
  lastText: 'all good',
  textTail: 'all good',
  permissionDenials: [],
  result: { subtype: 'success', isError: false, text: `result ${i}`, numTurns: 3, durationMs: 5000, costUsd: 0.01 },
  end: { reason: 'completed', message: 'completed' },
});

const work = mkdtempSync(join(tmpdir(), 'ct-alloc-'));
const stateDir = join(work, 'state');
const store = new TaskStore(stateDir);
const ids = [];
const base = Date.now() - 10_000 * 1000;
for (let i = 0; i < 10_000; i++) {
  ids.push(newTaskId(base + i * 1000));
  await store.writeRecord(record(ids[i], base + i * 1000, i));
}
const api = await startScriptedApi();
const { env } = await serverEnv(api, { stateDir, env: { CLAUDE_TIERS_LOG_LEVEL: 'warn' } });
const out = join(work, 'window.json');
const flags =
  {
    bytes: ['--expose-gc', '--min-semi-space-size=128', '--max-semi-space-size=128'],
    trace: ['--trace-gc-nvp'],
    promoted: ['--expose-gc'],
  }[mode] ?? [];
// V8 writes its GC trace to stdout, the protocol: a relay passes JSON lines through and keeps the rest.
const relay = mode === 'trace' ? [join(here, 'relay.mjs'), `${out}.trace`] : [];
const sample = { sample: 'all', promoted: 'promoted' }[mode];
const transport = new StdioClientTransport({
  command: process.execPath,
  args: [...relay, ...flags, '--import', join(here, 'probe.mjs'), process.env.SERVER ?? SERVER_ENTRY],
  env: { ...env, PROBE_OUT: out, ...(sample ? { PROBE_SAMPLE: sample } : {}) },
  stderr: 'pipe',
});
const client = new Client({ name: 'alloc', version: '1.0.0' });
await client.connect(transport);
await sleep(3000); // past the background prune
let seed = 1;
const pick = () => ids[(seed = (seed * 1103515245 + 12345) % 2147483648) % ids.length];
const status = async () => {
  const r = await client.callTool({ name: 'task_status', arguments: { task_id: pick() } });
  if (r.isError) throw new Error(JSON.stringify(r.content));
};
for (let i = 0; i < 300; i++) await status();
const signal = async (file) => {
  process.kill(transport.pid, 'SIGUSR2');
  while (!existsSync(file)) await sleep(20);
};
await signal(`${out}.begin`);
for (let i = 0; i < calls; i++) await status();
await signal(out);
const w = JSON.parse(readFileSync(out, 'utf8'));
await client.close();
await api.close();
const result = { mode, calls, scavenges_per_1000: (w.minor * 1000) / calls, major_gcs: w.major };
if (mode === 'bytes') result.bytes_per_call = Math.round(w.heapDelta / calls);
if (mode === 'trace') {
  const rows = readFileSync(`${out}.trace`, 'utf8')
    .split('\n')
    .map((l) => Object.fromEntries(l.split(/\s+/).map((kv) => kv.split('='))))
    .filter((r) => r.gc === 's')
    .slice(-Math.max(1, w.minor));
  const mean = (k) => Math.round(rows.reduce((a, r) => a + Number(r[k]), 0) / rows.length);
  Object.assign(result, {
    scavenge_pause_ms: rows.reduce((a, r) => a + Number(r.pause), 0) / rows.length,
    allocated_kb: mean('allocated') >> 10,
    survived_kb: mean('new_space_survived') >> 10,
    promoted_kb: mean('promoted') >> 10,
  });
}
if (sample) {
  const kept = join(tmpdir(), `ct-alloc-${mode}-${process.pid}.heapprofile`);
  writeFileSync(kept, readFileSync(`${out}.heapprofile`));
  result.heapprofile = kept;
}
rmSync(work, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(result)}\n`);
