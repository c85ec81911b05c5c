import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claudeEnv, makeTempHome, startScriptedApi } from '../test/support/scripted-api.js';
import { REAL_CLAUDE, ROOT } from '../test/support/harness.js';
import { fanOut } from './fan-out.js';

// `npm run demo`: three sub-agents with live progress, no credentials needed (the real claude against the scripted API).
async function main(): Promise<void> {
  const api = await startScriptedApi();
  try {
    const env = {
      ...claudeEnv(api, await makeTempHome()),
      CLAUDE_TIERS_STATE_DIR: mkdtempSync(join(tmpdir(), 'ct-demo-')),
      CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE,
      CLAUDE_TIERS_CONFIG: join(ROOT, 'test', 'support', 'no-mcp.config.json'),
      CLAUDE_TIERS_LOG_LEVEL: 'warn',
    };
    process.stderr.write('claude-tiers demo: three sub-agents, each a real claude process, scripted by a local fake Anthropic API\n\n');
    const results = await fanOut({
      env,
      prompts: [
        'Count the files in this project [[bash:ls | wc -l]][[bash:echo counted; sleep 1]]',
        'Check the Node version [[bash:node --version]][[bash:echo checked; sleep 2]]',
        'Say hello [[bash:echo hello from agent three; sleep 1]][[text:Hello! All done.]]',
      ],
    });
    for (const r of results) process.stdout.write(`\n== ${r.task_id} (${r.state})\n${r.result}\n`);
  } finally {
    await api.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
