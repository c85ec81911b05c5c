import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { argvRecordingClaude, ROOT, startServer, textOf, waitFor, type StartedServer } from '../support/harness.js';
import { finalView, type TaskView } from '../support/views.js';

// Issue 14, part 3: tier "auto" with max_budget_usd picks the strongest model whose estimated cost fits, at the API;
// max_budget_usd is a per-call ceiling on quick_answer too. The real claude against the scripted API.
let api: ScriptedApi;
let server: StartedServer;
let argv: ReturnType<typeof argvRecordingClaude>;
const uniq = () => `${process.pid}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

beforeAll(async () => {
  api = await startScriptedApi();
  argv = argvRecordingClaude(mkdtempSync(join(tmpdir(), 'ct-argv-')));
  server = await startServer(api, { env: { CLAUDE_TIERS_CLAUDE_BIN: argv.bin } });
});
afterAll(async () => {
  await server?.close();
  await api?.close();
});

const modelsAsked = (tag: string) => api.messageRequests((q) => q.firstUserText.includes(tag)).map((q) => q.model);

// A deep_task on tier "auto" asking to fix code (tag makes the prompt its own), with a budget: its final view.
async function autoFix(tag: string, budget: number): Promise<TaskView> {
  const r = await server.client.callTool({
    name: 'deep_task',
    arguments: {
      prompt: `Fix the bug in the login function ${tag} [[text:fixed]]`,
      tier: 'auto',
      max_budget_usd: budget,
      wait_s: 0,
    },
  });
  expect(r.isError, textOf(r)).toBeFalsy();
  return finalView(server.client, (r.structuredContent as { task_id: string }).task_id, 60_000);
}

describe('tier "auto" with a budget', () => {
  it(
    "quick_answer: a budget below the strong model's estimate runs the cheaper model at the API, says why, " +
      'and caps claude at the budget',
    async () => {
      const tag = `q${uniq()}`;
      const r = await server.client.callTool({
        name: 'quick_answer',
        arguments: {
          prompt: `Run the test suite ${tag} [[text:ran]][[usage:30000,3000]]`,
          tier: 'auto',
          max_budget_usd: 0.25,
        },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      const answer = r.structuredContent as { routed?: string; tier: string; cost_usd: number };
      expect(answer.tier).toBe('comprehensive');
      expect(answer.routed).toMatch(
        new RegExp(
          String.raw`^routed: comprehensive on sonnet \(opus estimate \$0\.77 > budget \$0\.25; ` +
            String.raw`sonnet estimate \$0\.15 <= budget \$0\.25\): mentions running tests or commands$`,
        ),
      );
      expect(textOf(r)).toContain('routed: comprehensive on sonnet (opus estimate $0.77 > budget $0.25');
      expect(answer.cost_usd).toBeGreaterThan(0);
      const models = modelsAsked(tag);
      expect(models.length).toBeGreaterThan(0);
      for (const m of models) expect(m).toMatch(/sonnet/);
      const run = argv.runs().find((a) => a.includes('--model=sonnet'));
      expect(run).toContain('--max-budget-usd=0.25');
    },
  );

  it(
    'deep_task: the same choice for a task, learned from the history so far; a budget that fits keeps the ' +
      'strong model',
    async () => {
      const tag = `d${uniq()}`;
      const v = await autoFix(tag, 0.25);
      expect(v.state).toBe('succeeded');
      expect(v.model).toBe('sonnet');
      expect(v.routed).toMatch(
        new RegExp(
          String.raw`^routed: comprehensive on sonnet \(opus estimate \$0\.\d+ > budget \$0\.25; ` +
            String.raw`sonnet estimate \$0\.\d+ <= budget \$0\.25\): asks to change files or code$`,
        ),
      );
      expect(modelsAsked(tag).every((m) => /sonnet/.test(m ?? ''))).toBe(true);
      const rich = `r${uniq()}`;
      const w = await autoFix(rich, 5);
      expect(w.state).toBe('succeeded');
      expect(w.routed).toMatch(
        /^routed: comprehensive on opus \(opus estimate \$0\.\d+ <= budget \$5\.00\): asks to change files or code$/,
      );
      expect(await waitFor(() => modelsAsked(rich).length > 0, 30_000)).toBe(true);
      expect(modelsAsked(rich).every((m) => /opus/.test(m ?? ''))).toBe(true);
    },
  );

  it('quick_answer: max_budget_usd is a ceiling for one call: claude stops once its cost passes it', async () => {
    const file = join(ROOT, 'package.json');
    const read = `[[tool:Read:{"file_path":"${file}"}]]`;
    const r = await server.client.callTool({
      name: 'quick_answer',
      arguments: {
        prompt: `[[usage:500000,200000]]${read}${read} ${uniq()}`,
        max_budget_usd: 0.01,
      },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/stopped at the budget limit \(\$\d+\.\d{4} spent\)/);
    expect(argv.runs().some((a) => a.includes('--max-budget-usd=0.01') && a.includes('--model=haiku'))).toBe(true);
  });
});
