import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFile } from '../support/harness.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { startNode, type Node, type View } from './cluster-support.js';

// Rate limits and daily budgets are the cluster's: a principal's calls count on every server; a permission request
// is answered through any server.
let api: ScriptedApi;
let redis: TestRedis;
let nodes: Node[] = [];
const CI_TOKEN = 'ci-token-0123456789abcdef';
const OPS_TOKEN = 'ops-token-0123456789abcdef';

beforeAll(async () => {
  [api, redis] = await Promise.all([startScriptedApi(), startRedis()]);
  // Bash is not pre-allowed: a command that reaches the network asks for permission (the answer test).
  const config = configFile({
    tiers: { comprehensive: { mcpConfig: null, allowedTools: ['Read'] } },
    limits: { ratePerMinute: 2, rateBurst: 2 },
    httpTokens: [
      { name: 'ci', token: CI_TOKEN },
      { name: 'ops', token: OPS_TOKEN },
    ],
    budgets: { ci: 0.05 },
  });
  nodes = await Promise.all(['a', 'b'].map((n) => startNode(n, api, redis.url, { CLAUDE_TIERS_CONFIG: config })));
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
  await redis?.close();
  await api?.close();
});

describe('limits shared through Redis', () => {
  it("a rate limit counts a principal's calls on every server", async () => {
    const [a, b] = nodes as [Node, Node];
    expect((await a.call('deep_task', { prompt: '[[text:one]]', wait_s: 0 })).isError).toBeFalsy();
    expect((await b.call('deep_task', { prompt: '[[text:two]]', wait_s: 0 })).isError).toBeFalsy();
    const third = await a.call('deep_task', { prompt: '[[text:three]]', wait_s: 0 });
    expect(third.isError).toBe(true);
    expect(third.text).toMatch(
      /rate limited: this client may start 2 calls a minute \(burst 2\) across the cluster; retry in \d+\.\d s/,
    );
  });

  it('a daily budget spent through one server is spent on the others', async () => {
    const [a, b] = nodes as [Node, Node];
    const ciA = await a.as(CI_TOKEN);
    const ciB = await b.as(CI_TOKEN);
    const spent = (await ciA('deep_task', {
      prompt: '[[usage:300000,30000]][[text:costly]]',
      wait_s: 30,
    })) as unknown as View & { cost_usd: number };
    expect(spent.state).toBe('succeeded');
    expect(spent.cost_usd).toBeGreaterThan(0.05);
    await new Promise((r) => setTimeout(r, 1500));
    const refused = await ciB('deep_task', { prompt: '[[text:more]]', wait_s: 0 });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/^budget: token "ci" has spent \$\d+\.\d{4} of its daily budget of \$0\.05/);
  });

  it('answer_task through one server reaches a task that waits for permission on another', async () => {
    const [a, b] = nodes as [Node, Node];
    const tag = `ANSWERED_${Date.now().toString(36)}`;
    const opsA = await a.as(OPS_TOKEN);
    const opsB = await b.as(OPS_TOKEN);
    const id = (await opsA('deep_task', { prompt: `[[bash:curl -s http://127.0.0.1:9/; echo ${tag}]]`, wait_s: 0 }))
      .task_id as string;
    let v = (await opsB('task_status', { task_id: id })) as unknown as View & {
      input_request?: { request_id: string };
    };
    for (let i = 0; i < 20 && v.state !== 'needs_input' && !v.final; i++)
      v = (await opsB('task_status', { task_id: id, wait_s: 5, cursor: v.cursor })) as unknown as typeof v;
    expect(v.state).toBe('needs_input');
    const runner = nodes.find((n) => readdirSync(join(n.stateDir, 'tasks')).includes(id))!;
    const other = runner === a ? opsB : opsA;
    const wrong = await other('answer_task', { task_id: id, request_id: 'p_nosuch', decision: 'allow' });
    expect(wrong.text).toMatch(/^request_id: task t_\S+ has no open request p_nosuch; its open request is /);
    const answered = await other('answer_task', {
      task_id: id,
      request_id: v.input_request!.request_id,
      decision: 'allow',
    });
    expect(answered.isError, answered.text).toBeFalsy();
    expect(answered.state).not.toBe('needs_input');
    let done = (await other('task_status', { task_id: id, wait_s: 30 })) as unknown as View;
    for (let i = 0; i < 5 && !done.final; i++)
      done = (await other('task_status', { task_id: id, wait_s: 10 })) as unknown as View;
    expect(done.state).toBe('succeeded');
    expect(done.result?.text).toContain(tag);
  });
});
