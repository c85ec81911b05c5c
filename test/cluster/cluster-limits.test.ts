import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { startNode, type Node, type View } from './cluster-support.js';

// Rate limits and daily budgets are the cluster's: a principal's calls count on every server.
let api: ScriptedApi;
let redis: TestRedis;
let nodes: Node[] = [];
const CI_TOKEN = 'ci-token-0123456789abcdef';

beforeAll(async () => {
  [api, redis] = await Promise.all([startScriptedApi(), startRedis()]);
  const config = join(mkdtempSync(join(tmpdir(), 'ct-limits-')), 'config.json');
  writeFileSync(config, JSON.stringify({ tiers: { comprehensive: { mcpConfig: null } }, limits: { ratePerMinute: 2, rateBurst: 2 }, httpTokens: [{ name: 'ci', token: CI_TOKEN }], budgets: { ci: 0.05 } }));
  nodes = await Promise.all(['a', 'b'].map((n) => startNode(n, api, redis.url, { CLAUDE_TIERS_CONFIG: config })));
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
  await redis?.close();
  await api?.close();
});

describe('limits shared through Redis', () => {
  it('a rate limit counts a principal\'s calls on every server', async () => {
    const [a, b] = nodes as [Node, Node];
    expect((await a.call('deep_task', { prompt: '[[text:one]]', wait_s: 0 })).isError).toBeFalsy();
    expect((await b.call('deep_task', { prompt: '[[text:two]]', wait_s: 0 })).isError).toBeFalsy();
    const third = await a.call('deep_task', { prompt: '[[text:three]]', wait_s: 0 });
    expect(third.isError).toBe(true);
    expect(third.text).toMatch(/rate limited: this client may start 2 calls a minute \(burst 2\) across the cluster; retry in \d+\.\d s/);
  });

  it('a daily budget spent through one server is spent on the others', async () => {
    const [a, b] = nodes as [Node, Node];
    const ciA = await a.as(CI_TOKEN);
    const ciB = await b.as(CI_TOKEN);
    const spent = (await ciA('deep_task', { prompt: '[[usage:300000,30000]][[text:costly]]', wait_s: 30 })) as unknown as View & { cost_usd: number };
    expect(spent.state).toBe('succeeded');
    expect(spent.cost_usd).toBeGreaterThan(0.05);
    await new Promise((r) => setTimeout(r, 1500));
    const refused = await ciB('deep_task', { prompt: '[[text:more]]', wait_s: 0 });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/^budget: token "ci" has spent \$\d+\.\d{4} of its daily budget of \$0\.05/);
  });
});
