import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claudeEnv, makeTempHome, type ScriptedApi } from '../test/support/scripted-api.js';
import { REAL_CLAUDE, SERVER_ENTRY } from '../test/support/harness.js';
import { report } from './report.js';
import { median, pct, round } from './stats.js';

// startup: from spawning the server to its answer to tools/list (the initialize handshake included), and on to the
// answer to its first tools/call (list_tasks): the engine loads after tools/list, so the first call carries that load.
export async function benchStartup(api: ScriptedApi, reps = 10): Promise<void> {
  const home = await makeTempHome();
  const times: number[] = [];
  const firstCall: number[] = [];
  for (let i = 0; i < reps; i++) {
    const env = {
      ...claudeEnv(api, home),
      CLAUDE_TIERS_STATE_DIR: mkdtempSync(join(tmpdir(), 'ct-bench-')),
      CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE,
      CLAUDE_TIERS_LOG_LEVEL: 'warn',
    };
    const t = performance.now();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [SERVER_ENTRY],
      env,
      stderr: 'ignore',
    });
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(transport);
    await client.listTools();
    times.push(performance.now() - t);
    const listed = await client.callTool({ name: 'list_tasks', arguments: {} });
    if (listed.isError) throw new Error(`list_tasks failed: ${JSON.stringify(listed.content)}`);
    firstCall.push(performance.now() - t);
    await client.close();
  }
  const row = (what: string, ms: number[], target: string) => ({
    what,
    median_ms: round(median(ms)),
    p90_ms: round(pct(ms, 90)),
    max_ms: round(Math.max(...ms)),
    target,
  });
  // The first call has no target: it is shown so that a faster tools/list is not bought with a slower first call.
  report(
    'startup',
    [
      row('spawn -> tools/list answered', times, '<= 300 ms'),
      row('spawn -> first tools/call answered', firstCall, 'none'),
    ],
    { reps, raw_ms: times.map((t) => round(t)), raw_first_call_ms: firstCall.map((t) => round(t)) },
  );
}
