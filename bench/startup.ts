import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claudeEnv, makeTempHome, type ScriptedApi } from '../test/support/scripted-api.js';
import { REAL_CLAUDE, SERVER_ENTRY } from '../test/support/harness.js';
import { report } from './report.js';
import { median, pct, round } from './stats.js';

// startup: from spawning the server to its answer to tools/list (the initialize handshake included).
export async function benchStartup(api: ScriptedApi, reps = 10): Promise<void> {
  const home = await makeTempHome();
  const times: number[] = [];
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
    await client.close();
  }
  report(
    'startup',
    [
      {
        what: 'spawn -> tools/list answered',
        median_ms: round(median(times)),
        p90_ms: round(pct(times, 90)),
        max_ms: round(Math.max(...times)),
      },
    ],
    { reps, target: '<= 300 ms', raw_ms: times.map((t) => round(t)) },
  );
}
