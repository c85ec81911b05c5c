import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { serverEnv, startHttpServer, textOf } from '../support/harness.js';

// Issue 14, part 3: in HTTP mode each token has a daily budget (USD) from the config; once spent, calls that start
// claude are refused with one line saying how much was spent, the budget and when it resets; a restart keeps the spend.
let api: ScriptedApi;
let env: Record<string, string>;
let server: Awaited<ReturnType<typeof startHttpServer>> | undefined;
let stateDir: string;
const MAIN = 'main-token-0123456789abcdef';
const CI = 'ci-token-0123456789abcdefgh';
const OPS = 'ops-token-0123456789abcdefg';
const REFUSAL = new RegExp(
  String.raw`^budget: token "(\w+)" has spent \$\d+\.\d{4} of its daily budget of \$(\S+) ` +
    String.raw`\(budgets\.(\w+) in the server's config\) today; ` +
    String.raw`calls that start claude are refused until it resets at (\d{4}-\d\d-\d\dT00:00:00\.000Z) ` +
    String.raw`\(in (\d+(\.\d)?) h\); raise budgets\.\w+ to allow more$`,
);

async function as(token: string): Promise<Client> {
  const client = new Client({ name: 'budget-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(server!.url), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

beforeAll(async () => {
  api = await startScriptedApi();
  stateDir = mkdtempSync(join(tmpdir(), 'ct-budget-'));
  const config = join(mkdtempSync(join(tmpdir(), 'ct-budget-cfg-')), 'config.json');
  // ci has its own budget; the main token ("default") and ops share the default amount, each with its own spend.
  writeFileSync(
    config,
    JSON.stringify({
      tiers: { comprehensive: { mcpConfig: null } },
      httpTokens: [
        { name: 'ci', token: CI },
        { name: 'ops', token: OPS },
      ],
      budgets: { ci: 0.01, default: 0.02 },
    }),
  );
  env = (await serverEnv(api, { stateDir, env: { CLAUDE_TIERS_CONFIG: config, CLAUDE_TIERS_HTTP_TOKEN: MAIN } })).env;
  server = await startHttpServer(env);
});
afterAll(async () => {
  await server?.close();
  await api?.close();
});

describe('daily budgets per HTTP token', () => {
  it(
    'a token that has spent its budget is refused (quick_answer and deep_task) with how much, the budget and ' +
      'the reset; others go on; a restart keeps it',
    async () => {
      const ci = await as(CI);
      const main = await as(MAIN);
      const ops = await as(OPS);
      try {
        // One expensive answer: claude reports the cost of 500k input tokens, far over $0.01.
        const first = await ci.callTool({
          name: 'quick_answer',
          arguments: { prompt: '[[text:pricey]][[usage:500000,200000]]' },
        });
        expect(first.isError, textOf(first)).toBeFalsy();
        expect((first.structuredContent as { cost_usd: number }).cost_usd).toBeGreaterThan(0.01);
        const before = api.messageRequests().length;
        for (const [name, args] of [
          ['quick_answer', { prompt: 'again [[text:no]]' }],
          ['deep_task', { prompt: 'a task [[text:no]]', wait_s: 0 }],
        ] as const) {
          const refused = await ci.callTool({ name, arguments: args });
          expect(refused.isError).toBe(true);
          const m = REFUSAL.exec(textOf(refused));
          expect(m, textOf(refused)).not.toBeNull();
          expect([m![1], m![2], m![3]]).toEqual(['ci', '0.01', 'ci']);
          const reset = Date.parse(m![4]!);
          expect(reset).toBe((Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000);
          expect(Number(m![5])).toBeCloseTo((reset - Date.now()) / 3_600_000, 0);
        }
        expect(api.messageRequests().length).toBe(before);
        // A task's cost counts when it ends: the main token ("default") spends its budget with one task.
        const task = await main.callTool(
          { name: 'deep_task', arguments: { prompt: '[[text:done]][[usage:500000,200000]]', wait_s: 30 } },
          { timeout: 60_000 },
        );
        expect((task.structuredContent as { state: string }).state).toBe('succeeded');
        const mainRefused = await main.callTool({ name: 'quick_answer', arguments: { prompt: 'x [[text:no]]' } });
        expect(textOf(mainRefused)).toMatch(
          /^budget: token "default" has spent .* of its daily budget of \$0\.02 \(budgets\.default/,
        );
        // ops shares the default amount, not the main token's spend; reading tools stay open to a spent token.
        const fine = await ops.callTool({ name: 'quick_answer', arguments: { prompt: 'ops [[text:fine]]' } });
        expect(textOf(fine)).toBe('fine');
        expect((await ci.callTool({ name: 'list_tasks', arguments: {} })).isError).toBeFalsy();
      } finally {
        await Promise.all([ci.close(), main.close(), ops.close()]);
      }
      const file = join(stateDir, 'budgets.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { day: string; spent: Record<string, number> };
      expect(saved.day).toBe(new Date().toISOString().slice(0, 10));
      expect(saved.spent['token:ci']).toBeGreaterThan(0.01);
      expect(saved.spent['token:ops']).toBeGreaterThan(0);
      // After a restart the spend is still there.
      await server!.close();
      server = await startHttpServer(env);
      const again = await as(CI);
      try {
        const refused = await again.callTool({
          name: 'quick_answer',
          arguments: { prompt: 'after restart [[text:no]]' },
        });
        expect(textOf(refused)).toMatch(REFUSAL);
      } finally {
        await again.close();
      }
    },
  );
});
