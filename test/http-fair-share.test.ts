import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PRICES } from '../src/config/defaults.js';
import { CostModel } from '../src/cost/cost-model.js';
import {
  configFile,
  processesMatching,
  serverEnv,
  startHttpServer,
  textOf,
  uniqueSleep,
  waitFor,
} from './support/harness.js';
import { apiPerFile } from './support/per-file.js';
import { parseProm } from './support/prom.js';

// Issue 19, items 8-11: the HTTP boundary between tokens. One token cannot take every running slot and queue place
// from the others, nor read their cached answers, nor add series to /metrics with made-up model names, nor spend
// past its budget by starting calls in parallel.
const file = apiPerFile();
const MAIN = 'main-token-fair-0123456789abcdef';
const A = 'a-token-fair-0123456789abcdefgh';
const C = 'c-token-fair-0123456789abcdefgh';
const TINY = 'tiny-token-fair-0123456789abcdef';
const TINY2 = 'tiny2-token-fair-0123456789abcde';
const TINY_BUDGET = 0.005;

type Server = Awaited<ReturnType<typeof startHttpServer>>;
let server: Server;
let stateDir: string;
const clients: Client[] = [];

async function as(token: string, on = server): Promise<Client> {
  const client = new Client({ name: 'fair-share-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(on.url), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  clients.push(client);
  return client;
}

const structured = <T>(r: unknown) => (r as { structuredContent: T }).structuredContent;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'ct-fair-'));
  const config = configFile({
    tiers: { comprehensive: { mcpConfig: null } },
    httpTokens: [
      { name: 'a', token: A },
      { name: 'c', token: C },
      { name: 'tiny', token: TINY },
    ],
    budgets: { tiny: TINY_BUDGET },
  });
  const { env } = await serverEnv(file.api, {
    stateDir,
    env: {
      CLAUDE_TIERS_CONFIG: config,
      CLAUDE_TIERS_HTTP_TOKEN: MAIN,
      CLAUDE_TIERS_MAX_RUNNING: '1',
      CLAUDE_TIERS_MAX_QUEUE: '2',
    },
  });
  server = await startHttpServer(env);
  file.keep(server);
});
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
});

describe('fair share between HTTP tokens (item 8)', () => {
  it(
    'token a fills the slot and the queue; token c still gets a queue place and the next slot, each refused ' +
      'with its own numbers; server_stats shows each its own',
    async () => {
      const a = await as(A);
      const c = await as(C);
      const marker = uniqueSleep(60);
      const hang = () =>
        a.callTool({ name: 'deep_task', arguments: { prompt: `[[bash:echo x; sleep ${marker}]]`, wait_s: 0 } });
      const aIds: string[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          const r = await hang();
          expect(r.isError, textOf(r)).toBeFalsy();
          aIds.push(structured<{ task_id: string }>(r).task_id);
        }
        expect(await waitFor(() => processesMatching(`sleep ${marker}`).length > 0, 30_000)).toBe(true);
        // a is at its share (alone, the whole queue): its fourth task is refused with its own numbers.
        const fourth = await hang();
        expect(fourth.isError).toBe(true);
        expect(textOf(fourth)).toMatch(
          new RegExp(
            String.raw`^queue full: 1 tasks running and 2 queued for token "a", ` +
              String.raw`its whole share of the queue \(2 places: maxQueue shared by 1 active principals\)`,
          ),
        );
        // c gets a place although the queue holds maxQueue tasks: it is under its share (1 of 2 shared by a and c).
        const cTask = await c.callTool({
          name: 'deep_task',
          arguments: { prompt: '[[text:c was served]]', wait_s: 0 },
        });
        expect(cTask.isError, textOf(cTask)).toBeFalsy();
        const cId = structured<{ task_id: string; state: string }>(cTask).task_id;
        expect(structured<{ state: string }>(cTask).state).toBe('queued');
        const cSecond = await c.callTool({ name: 'deep_task', arguments: { prompt: '[[text:too many]]', wait_s: 0 } });
        expect(textOf(cSecond)).toMatch(
          new RegExp(
            String.raw`^queue full: 0 tasks running and 1 queued for token "c", ` +
              String.raw`its whole share of the queue \(1 places: maxQueue shared by 2 active principals\)`,
          ),
        );
        // Each token's server_stats shows its own tasks besides the server's.
        type Stats = {
          tasks: { running: number; queued: number };
          mine: {
            principal: string;
            running: number;
            queued: number;
            finished: Record<string, number>;
            share: { running: number; queue: number };
          };
        };
        const aStats = structured<Stats>(await a.callTool({ name: 'server_stats', arguments: {} }));
        const cStats = structured<Stats>(await c.callTool({ name: 'server_stats', arguments: {} }));
        expect(aStats.tasks).toMatchObject({ running: 1, queued: 3 });
        expect(aStats.mine).toMatchObject({
          principal: 'token:a',
          running: 1,
          queued: 2,
          share: { running: 1, queue: 1 },
        });
        expect(cStats.mine).toEqual({
          principal: 'token:c',
          running: 0,
          queued: 1,
          finished: {},
          share: { running: 1, queue: 1 },
        });
        expect(textOf(await c.callTool({ name: 'server_stats', arguments: {} }))).toContain(
          'yours (token:c): 0 running, 1 queued, none finished',
        );
        // The slot a frees goes to c (fewer running, not served yet), ahead of a's tasks queued earlier.
        await a.callTool({ name: 'kill_task', arguments: { task_id: aIds[0]! } });
        const cState = async () =>
          structured<{ state: string }>(
            await c.callTool({ name: 'task_status', arguments: { task_id: cId, wait_s: 5 } }),
          ).state;
        expect(await waitFor(async () => ['succeeded', 'failed', 'killed'].includes(await cState()), 90_000)).toBe(
          true,
        );
        expect(await cState()).toBe('succeeded');
        const aStates = await Promise.all(
          aIds
            .slice(1)
            .map(
              async (id) =>
                structured<{ state: string }>(await a.callTool({ name: 'task_status', arguments: { task_id: id } }))
                  .state,
            ),
        );
        expect(aStates.filter((s) => s === 'queued').length).toBeGreaterThanOrEqual(1);
        const cAfter = structured<Stats>(await c.callTool({ name: 'server_stats', arguments: {} }));
        expect(cAfter.mine).toMatchObject({ running: 0, queued: 0, finished: { succeeded: 1 } });
      } finally {
        for (const id of aIds)
          await a.callTool({ name: 'kill_task', arguments: { task_id: id } }).catch(() => undefined);
      }
      expect(await waitFor(() => processesMatching(`sleep ${marker}`).length === 0, 20_000)).toBe(true);
    },
    180_000,
  );
});

describe('the answer cache per principal (item 9)', () => {
  it("token c does not get token a's cached answer; a does", async () => {
    const a = await as(A);
    const c = await as(C);
    const args = { prompt: `cache me ${Date.now()} [[text:answer for a]]`, cache: true };
    const first = await a.callTool({ name: 'quick_answer', arguments: args }, { timeout: 60_000 });
    expect(textOf(first)).toBe('answer for a');
    const before = file.api.messageRequests().length;
    const again = await a.callTool({ name: 'quick_answer', arguments: args });
    expect(structured<{ cached?: unknown }>(again).cached).toBeDefined();
    expect(file.api.messageRequests().length).toBe(before);
    const other = await c.callTool({ name: 'quick_answer', arguments: args }, { timeout: 60_000 });
    expect(other.isError, textOf(other)).toBeFalsy();
    expect(structured<{ cached?: unknown }>(other).cached).toBeUndefined();
    expect(file.api.messageRequests().length).toBeGreaterThan(before);
  }, 120_000);
});

describe('model labels on /metrics (item 10)', () => {
  it('15 made-up model names add no series: their label is "other"', async () => {
    const c = await as(C);
    const scrape = async () =>
      parseProm(
        await (await fetch(new URL('/metrics', server.url), { headers: { authorization: `Bearer ${MAIN}` } })).text(),
      );
    const models = Array.from({ length: 15 }, (_, i) => `made-up-model-${i}-${Date.now() % 10_000}`);
    for (let i = 0; i < models.length; i += 5) {
      const batch = models
        .slice(i, i + 5)
        .map((model) =>
          c.callTool(
            { name: 'quick_answer', arguments: { prompt: `[[text:hi]][[usage:1000,100]] ${model}`, model } },
            { timeout: 90_000 },
          ),
        );
      for (const r of await Promise.all(batch)) expect(r.isError, textOf(r)).toBeFalsy();
    }
    const samples = await scrape();
    const labelled = samples.filter((s) => Object.values(s.labels).some((v) => v.includes('made-up-model')));
    expect(labelled.map((s) => `${s.name}${JSON.stringify(s.labels)}`)).toEqual([]);
    const cost = samples.filter((s) => s.name === 'claude_tiers_cost_usd_total' && s.labels.tier === 'speed');
    expect(cost.find((s) => s.labels.model === 'other')?.value ?? 0).toBeGreaterThan(0);
    const circuits = samples.filter((s) => s.name === 'claude_tiers_breaker_state');
    expect(circuits.map((s) => s.labels.key)).toContain('speed:other');
    // Bounded: the configured models and aliases (tiers and prices) and "other", whatever the clients send.
    expect(new Set(cost.map((s) => s.labels.model)).size).toBeLessThanOrEqual(4);
    expect(circuits.length).toBeLessThanOrEqual(8);
  }, 240_000);
});

describe('budgets hold back calls in flight (item 11)', () => {
  it(
    'six parallel quick answers (and six deep tasks) of a token with a tiny budget spend at most the budget ' +
      'plus one estimate',
    async () => {
      const stateDir2 = mkdtempSync(join(tmpdir(), 'ct-fair-budget-'));
      const config = configFile({
        tiers: { comprehensive: { mcpConfig: null } },
        httpTokens: [
          { name: 'tiny', token: TINY },
          { name: 'tiny2', token: TINY2 },
        ],
        budgets: { tiny: TINY_BUDGET, tiny2: TINY_BUDGET },
      });
      const { env } = await serverEnv(file.api, {
        stateDir: stateDir2,
        env: { CLAUDE_TIERS_CONFIG: config, CLAUDE_TIERS_HTTP_TOKEN: MAIN },
      });
      const own = await startHttpServer(env);
      file.keep(own);
      const tiny = await as(TINY, own);
      // Each call costs about what the cost model expects of a speed answer (no history: its defaults).
      const prompt = (i: number) => `parallel ${i} [[text:spent]][[usage:20000,4000]]`;
      const estimate = new CostModel({ prices: DEFAULT_PRICES }).estimate('speed', 'haiku', prompt(0).length)!.usd;
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          tiny.callTool({ name: 'quick_answer', arguments: { prompt: prompt(i) } }, { timeout: 90_000 }),
        ),
      );
      const answered = results.filter((r) => !r.isError);
      const refused = results.filter((r) => r.isError).map(textOf);
      const costs = answered.map((r) => structured<{ cost_usd: number }>(r).cost_usd);
      const spent =
        (JSON.parse(readFileSync(join(stateDir2, 'budgets.json'), 'utf8')) as { spent: Record<string, number> }).spent[
          'token:tiny'
        ] ?? 0;
      const report =
        `estimate $${estimate.toFixed(5)}, costs ${costs.map((c) => c.toFixed(5)).join(', ')}, spent ` +
        `$${spent.toFixed(5)}, refused: ${refused.join(' | ')}`;
      expect(
        costs.every((c) => c > 0 && c <= estimate * 1.5),
        report,
      ).toBe(true);
      expect(spent, report).toBeCloseTo(
        costs.reduce((x, y) => x + y, 0),
        6,
      );
      expect(spent, report).toBeLessThanOrEqual(TINY_BUDGET + estimate);
      expect(refused.length, report).toBeGreaterThanOrEqual(1);
      for (const text of refused)
        expect(text, report).toMatch(
          new RegExp(
            String.raw`^budget: token "tiny" has spent \$\d+\.\d{4} of its daily budget of \$0\.005 ` +
              String.raw`.*(calls still running are estimated at \$\d+\.\d{4}|refused until it resets)`,
          ),
        );
      // Six parallel deep tasks of another tiny token (on haiku, each about half the comprehensive estimate of haiku):
      // one runs.
      const tiny2 = await as(TINY2, own);
      const deepPrompt = (i: number) => `deep ${i} [[text:spent]][[usage:100000,20000]]`;
      const deepEstimate = new CostModel({ prices: DEFAULT_PRICES }).estimate(
        'comprehensive',
        'haiku',
        deepPrompt(0).length,
      )!.usd;
      const deep = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          tiny2.callTool(
            { name: 'deep_task', arguments: { prompt: deepPrompt(i), model: 'haiku', wait_s: 60 } },
            { timeout: 90_000 },
          ),
        ),
      );
      const ran = deep.filter((r) => !r.isError).map((r) => structured<{ state: string; cost_usd?: number }>(r));
      const deepSpent =
        (JSON.parse(readFileSync(join(stateDir2, 'budgets.json'), 'utf8')) as { spent: Record<string, number> }).spent[
          'token:tiny2'
        ] ?? 0;
      const deepReport =
        `estimate $${deepEstimate.toFixed(5)}, ran ${JSON.stringify(ran)}, ` + `spent $${deepSpent.toFixed(5)}`;
      if (process.env.FAIR_SHARE_REPORT) console.log(`${report}\n${deepReport}`);
      expect(
        ran.map((r) => r.state),
        deepReport,
      ).toEqual(['succeeded']);
      expect(deepSpent, deepReport).toBeGreaterThan(0);
      expect(deepSpent, deepReport).toBeLessThanOrEqual(TINY_BUDGET + deepEstimate);
      expect(
        deep
          .filter((r) => r.isError)
          .map(textOf)
          .every((t) => t.startsWith('budget: token "tiny2"')),
        deepReport,
      ).toBe(true);
    },
    180_000,
  );
});
