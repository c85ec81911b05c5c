import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { metricsPortOf, parseProm, value } from './support/prom.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import {
  configFile,
  processesMatching,
  runCli,
  serverEnv,
  startHttpServer,
  startServer,
  textOf,
  uniqueSleep,
  waitFor,
} from './support/harness.js';

// One sample of the Prometheus text format: name, labels, value.
let api: ScriptedApi;

beforeAll(async () => {
  api = await startScriptedApi();
});
afterAll(async () => {
  await api?.close();
});

describe('metrics over HTTP (GET /metrics with the bearer token)', () => {
  const TOKEN = 'metrics-token-0123456789abcdef';
  let url: string;
  let close: (() => Promise<void>) | undefined;
  let client: Client;
  const scrape = async (auth = `Bearer ${TOKEN}`) =>
    fetch(new URL('/metrics', url), { headers: { authorization: auth } });

  beforeAll(async () => {
    const { env } = await serverEnv(api, { env: { CLAUDE_TIERS_HTTP_TOKEN: TOKEN } });
    const started = await startHttpServer(env);
    url = started.url;
    close = started.close;
    client = new Client({ name: 'metrics-test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
      }),
    );
  });
  afterAll(async () => {
    await client?.close();
    await close?.();
  });

  it('answers 401 without the token or with a wrong one, and 404 for POST /metrics', async () => {
    const none = await fetch(new URL('/metrics', url));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await scrape('Bearer wrong-token-0123456789')).status).toBe(401);
    expect(
      (await fetch(new URL('/metrics', url), { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(404);
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('after 3 deep_tasks succeeded, 1 killed and 2 quick answers, the counters say exactly that', async () => {
    const deep = (prompt: string) =>
      client.callTool({ name: 'deep_task', arguments: { prompt, wait_s: 30 } }, { timeout: 60_000 });
    const done = await Promise.all([deep('[[text:one]]'), deep('[[bash:echo two]]'), deep('[[text:three]]')]);
    expect(done.map((r) => (r.structuredContent as { state: string }).state)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    const marker = uniqueSleep(30);
    const slow = await client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:echo started; sleep ${marker}]]`, wait_s: 0 },
    });
    const slowId = (slow.structuredContent as { task_id: string }).task_id;
    expect(await waitFor(() => processesMatching(`sleep ${marker}`).length > 0, 20_000)).toBe(true);
    const killed = await client.callTool({ name: 'kill_task', arguments: { task_id: slowId } });
    expect((killed.structuredContent as { state: string }).state).toBe('killed');
    const answers = [];
    for (const prompt of ['[[text:q1]][[usage:1200,34]]', '[[text:q2]][[usage:800,21]]']) {
      const r = await client.callTool({ name: 'quick_answer', arguments: { prompt } });
      expect(r.isError, textOf(r)).toBeFalsy();
      answers.push(
        r.structuredContent as {
          cost_usd: number;
          model: string;
          usage: {
            input_tokens: number;
            output_tokens: number;
            cache_read_input_tokens: number;
            cache_creation_input_tokens: number;
          };
        },
      );
    }
    const res = await scrape();
    const samples = parseProm(await res.text());
    expect(value(samples, 'claude_tiers_tasks_finished_total', { tier: 'comprehensive', state: 'succeeded' })).toBe(3);
    expect(value(samples, 'claude_tiers_tasks_finished_total', { tier: 'comprehensive', state: 'killed' })).toBe(1);
    expect(value(samples, 'claude_tiers_tasks_finished_total')).toBe(4);
    expect(value(samples, 'claude_tiers_quick_answers_total', { tier: 'speed', outcome: 'answered' })).toBe(2);
    expect(value(samples, 'claude_tiers_quick_answers_total')).toBe(2);
    expect(value(samples, 'claude_tiers_quick_answer_seconds_count', { tier: 'speed' })).toBe(2);
    expect(value(samples, 'claude_tiers_task_duration_seconds_count')).toBe(4);
    expect(value(samples, 'claude_tiers_task_first_event_seconds_count', { tier: 'comprehensive' })).toBe(4);
    // Tokens and cost of the quick answers are exactly what the answers themselves reported.
    const inTokens = answers.reduce(
      (n, a) => n + a.usage.input_tokens + a.usage.cache_read_input_tokens + a.usage.cache_creation_input_tokens,
      0,
    );
    expect(inTokens).toBeGreaterThanOrEqual(2000);
    expect(value(samples, 'claude_tiers_input_tokens_total', { tier: 'speed' })).toBe(inTokens);
    expect(value(samples, 'claude_tiers_output_tokens_total', { tier: 'speed' })).toBe(
      answers.reduce((n, a) => n + a.usage.output_tokens, 0),
    );
    const speedCost = value(samples, 'claude_tiers_cost_usd_total', { tier: 'speed' });
    expect(speedCost).toBeGreaterThan(0);
    expect(speedCost).toBeCloseTo(answers[0]!.cost_usd + answers[1]!.cost_usd, 9);
    expect(value(samples, 'claude_tiers_cost_usd_total', { tier: 'comprehensive' })).toBeGreaterThan(0);
    // Nothing is left running; no spare was wanted, no call refused, no circuit moved.
    expect(value(samples, 'claude_tiers_tasks_running')).toBe(0);
    expect(value(samples, 'claude_tiers_tasks_queued')).toBe(0);
    expect(value(samples, 'claude_tiers_spare_hits_total') + value(samples, 'claude_tiers_spare_misses_total')).toBe(0);
    expect(value(samples, 'claude_tiers_rate_limited_total')).toBe(0);
    expect(value(samples, 'claude_tiers_breaker_transitions_total')).toBe(0);
    expect(samples.some((s) => s.name === 'claude_tiers_claude_rss_bytes')).toBe(true);
  });

  it('server_stats and /metrics agree on task counts', async () => {
    const stats = (await client.callTool({ name: 'server_stats', arguments: {} })).structuredContent as {
      tasks: { running: number; queued: number; finished: Record<string, number> };
      quick_answers: Record<string, number>;
    };
    const samples = parseProm(await (await scrape()).text());
    expect(stats.tasks.finished).toEqual({ succeeded: 3, killed: 1 });
    for (const [state, n] of Object.entries(stats.tasks.finished))
      expect(value(samples, 'claude_tiers_tasks_finished_total', { state })).toBe(n);
    expect(stats.tasks.running).toBe(value(samples, 'claude_tiers_tasks_running'));
    expect(stats.tasks.queued).toBe(value(samples, 'claude_tiers_tasks_queued'));
    expect(stats.quick_answers).toEqual({ answered: 2 });
  });
});

describe('--metrics-port in stdio mode', () => {
  it(
    'serves the same metrics on loopback without a token: spare takes, rate-limit refusals and an opened ' + 'circuit',
    async () => {
      const config = configFile({
        tiers: { comprehensive: { mcpConfig: null } },
        limits: { ratePerMinute: 1, rateBurst: 2, breakerThreshold: 1 },
      });
      const s = await startServer(api, {
        args: ['--metrics-port', '0'],
        spares: 1,
        env: { CLAUDE_TIERS_CONFIG: config },
      });
      try {
        const port = await metricsPortOf(s.stderr, 10_000);
        expect(port).toBeTruthy();
        const scrape = async () => {
          const res = await fetch(`http://127.0.0.1:${port}/metrics`);
          expect(res.status).toBe(200);
          return parseProm(await res.text());
        };
        const ok = await s.client.callTool({ name: 'quick_answer', arguments: { prompt: '[[text:fine]]' } });
        expect(textOf(ok)).toContain('fine');
        const failed = await s.client.callTool({ name: 'quick_answer', arguments: { prompt: '[[error:529]]' } });
        expect(failed.isError).toBe(true);
        const refused = await s.client.callTool({ name: 'quick_answer', arguments: { prompt: 'a third call' } });
        expect(textOf(refused)).toMatch(/rate limited/);
        const samples = await scrape();
        expect(value(samples, 'claude_tiers_quick_answers_total', { tier: 'speed', outcome: 'answered' })).toBe(1);
        expect(value(samples, 'claude_tiers_quick_answers_total', { tier: 'speed', outcome: 'error' })).toBe(1);
        expect(value(samples, 'claude_tiers_rate_limited_total', { tool: 'quick_answer' })).toBe(1);
        const opened = samples.filter(
          (x) => x.name === 'claude_tiers_breaker_transitions_total' && x.labels.to === 'open',
        );
        expect(opened).toHaveLength(1);
        expect(opened[0]!.value).toBe(1);
        expect(value(samples, 'claude_tiers_breaker_state', { key: opened[0]!.labels.key! })).toBe(2);
        // Both quick runs asked for a spare (the speed tier keeps one): each was a hit or a miss, and server_stats
        // agrees.
        const hits = value(samples, 'claude_tiers_spare_hits_total', { tier: 'speed' });
        const misses = value(samples, 'claude_tiers_spare_misses_total', { tier: 'speed' });
        expect(hits + misses).toBe(2);
        const stats = (await s.client.callTool({ name: 'server_stats', arguments: {} })).structuredContent as {
          spares: { hits: number; misses: number };
          rate_limited: number;
        };
        expect(stats.spares).toMatchObject({ hits, misses });
        expect(stats.rate_limited).toBe(1);
        expect(
          await waitFor(
            async () => value(await scrape(), 'claude_tiers_spares_ready', { tier: 'speed' }) === 1,
            30_000,
          ),
        ).toBe(true);
        expect(value(await scrape(), 'claude_tiers_claude_processes')).toBeGreaterThanOrEqual(1);
        expect(value(await scrape(), 'claude_tiers_claude_rss_bytes')).toBeGreaterThan(10 * 1048576);
        // Only GET /metrics, only loopback names.
        expect((await fetch(`http://127.0.0.1:${port}/mcp`)).status).toBe(404);
      } finally {
        await s.close();
      }
    },
  );
});

describe('metrics config', () => {
  it(
    "only your own config opens the port: a project config's metrics is ignored; --metrics-port sets it; a " +
      'bad or taken port stops start-up',
    async () => {
      const project = mkdtempSync(join(tmpdir(), 'ct-metrics-project-'));
      writeFileSync(join(project, 'claude-tiers.config.json'), JSON.stringify({ metrics: { port: 9464 } }));
      const { env } = await serverEnv(api);
      const { CLAUDE_TIERS_CONFIG: _named, ...noConfig } = env;
      const fromProject = await runCli(['--print-config'], { env: noConfig, cwd: project });
      expect(fromProject.code, fromProject.stderr).toBe(0);
      const out = JSON.parse(fromProject.stdout) as {
        ignored: Array<{ key: string; why: string }>;
        config: { metrics?: unknown };
      };
      expect(out.ignored.find((i) => i.key === 'metrics')?.why).toMatch(/listening port/);
      expect(out.config.metrics).toBeUndefined();
      const fromFlag = JSON.parse(
        (await runCli(['--print-config', '--metrics-port', '9465'], { env })).stdout,
      ) as typeof out;
      expect(fromFlag.config.metrics).toEqual({ port: 9465, host: '127.0.0.1' });
      const bad = await runCli(['--metrics-port', '70000'], { env });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/metrics\.port/);
      // A port that is taken: one line, exit code 2, before anything starts.
      const { createServer } = await import('node:net');
      const taken = createServer();
      await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
      try {
        const port = (taken.address() as { port: number }).port;
        const r = await runCli(['--metrics-port', String(port)], { env });
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(
          new RegExp(`metrics port 127\\.0\\.0\\.1:${port}: cannot listen \\(the port is in use`),
        );
      } finally {
        taken.close();
      }
    },
  );
});
