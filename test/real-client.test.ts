import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { REAL_CLAUDE, ROOT, SERVER_ENTRY } from './support/harness.js';

let api: ScriptedApi;
beforeAll(async () => {
  api = await startScriptedApi();
});
afterAll(async () => {
  await api?.close();
});

describe('the real Claude Code as the MCP client', () => {
  it(
    'a parent claude calls quick_answer and deep_task of claude-tiers; the child answers reach the ' + 'parent',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ct-parent-'));
      const mcpConfig = join(dir, 'mcp.json');
      writeFileSync(
        mcpConfig,
        JSON.stringify({
          mcpServers: {
            'claude-tiers': {
              command: process.execPath,
              args: [SERVER_ENTRY],
              env: {
                CLAUDE_TIERS_STATE_DIR: join(dir, 'state'),
                CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE,
                CLAUDE_TIERS_CONFIG: join(ROOT, 'test', 'support', 'no-mcp.config.json'),
                CLAUDE_TIERS_WARM_SPARES: '0',
                CLAUDE_TIERS_ROOTS: ROOT,
              },
            },
          },
        }),
      );
      const prompt =
        'parent asks [[tool:mcp__claude-tiers__deep_task:{"prompt":"child deep ' +
        'work","wait_s":30}]][[tool:mcp__claude-tiers__quick_answer:{"prompt":"child quick question"}]]';
      const parent = await execa(
        REAL_CLAUDE,
        [
          '-p',
          '--output-format=json',
          '--model=sonnet',
          `--mcp-config=${mcpConfig}`,
          '--strict-mcp-config',
          '--allowedTools=mcp__claude-tiers',
          '--no-session-persistence',
        ],
        {
          env: claudeEnv(api, await makeTempHome(), { ENABLE_TOOL_SEARCH: 'false', CLAUDE_CODE_MAX_RETRIES: '0' }),
          extendEnv: false,
          input: prompt,
          cwd: ROOT,
          reject: false,
          timeout: 90_000,
        },
      );
      const result = JSON.parse(parent.stdout) as { is_error: boolean; result: string; num_turns: number };
      expect(result.is_error, parent.stdout.slice(0, 500)).toBe(false);
      // The last tool was quick_answer: the parent's final text carries the child's answer.
      // Claude Code hands the tool's structuredContent to the model, so the child's answer arrives as JSON.
      expect(result.result).toMatch(/^done: \{"answer":"ok: child quick question"/);
      const parentRequests = api.messageRequests((r) => r.firstUserText.startsWith('parent asks'));
      expect(parentRequests[0]!.tools).toEqual(
        expect.arrayContaining(['mcp__claude-tiers__quick_answer', 'mcp__claude-tiers__deep_task']),
      );
      const last = JSON.stringify(parentRequests[parentRequests.length - 1]!.messages);
      expect(last).toMatch(/task_id\\+":\\+"t_[^"\\]+\\+",\\+"state\\+":\\+"succeeded/);
      expect(last).toContain('ok: child deep work');
      const children = api.messageRequests((r) => r.firstUserText.startsWith('child'));
      expect(children.map((r) => r.model)).toEqual(
        expect.arrayContaining([expect.stringMatching(/opus/), expect.stringMatching(/haiku/)]),
      );
    },
    180_000,
  );
});
