import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { REAL_CLAUDE, ROOT, runCli, startServer, textOf } from './support/harness.js';

// compare.json as the test reads it.
interface Run { prompt_index: number; run: number; tier: string; task_id?: string; state: string; success: boolean; latency_ms: number | null; first_event_ms: number | null; cost_usd: number; turns: number; output_tokens: number }
interface Tier { tier: string; runs: number; success_rate: number; latency_p50_ms: number; latency_p95_ms: number; first_event_p50_ms: number; cost_total_usd: number; cost_mean_usd: number }
interface CompareJson { tiers: string[]; prompts: string[]; runs: number; aborted: boolean; results: Run[]; summary: { a: Tier; b: Tier; ratio_b_over_a: Record<string, number | null> } }

let api: ScriptedApi;
let env: Record<string, string>;
let work: string;

beforeAll(async () => {
  api = await startScriptedApi();
  work = mkdtempSync(join(tmpdir(), 'ct-compare-'));
  env = { ...claudeEnv(api, await makeTempHome()), CLAUDE_TIERS_STATE_DIR: join(work, 'state'), CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE, CLAUDE_TIERS_CONFIG: join(ROOT, 'test', 'support', 'no-mcp.config.json') };
});
afterAll(async () => {
  await api?.close();
});

// Nearest-rank percentile, computed here independently of the code under test.
const nearestRank = (values: number[], p: number) => [...values].sort((x, y) => x - y)[Math.ceil((p / 100) * values.length) - 1]!;
// The cells of one table row, found by its label (columns are separated by two or more spaces).
const row = (table: string, label: string) => table.split('\n').find((l) => l.split(/\s{2,}/)[0] === label)?.split(/\s{2,}/).slice(1) ?? [];

describe('compare (A/B comparison of two tiers)', () => {
  it('runs 6 prompts on speed and comprehensive, interleaved; the table, compare.json and report.html agree', async () => {
    const prompts = [
      JSON.stringify({ prompt: 'one [[text:ok 1]] [[usage:2000,300]]' }),
      JSON.stringify({ prompt: 'two [[text:ok 2]] [[usage:500,50]]' }),
      JSON.stringify('three [[text:ok 3]]'),
      'four <b>&</b> [[text:ok 4]] [[usage:4000,900]]',
      JSON.stringify({ prompt: 'five [[error-model:haiku:400]][[text:ok 5]]' }),
      JSON.stringify({ prompt: 'six [[text:ok 6]] [[usage:1000,100]]' }),
    ];
    const file = join(work, 'prompts.jsonl');
    writeFileSync(file, `${prompts.join('\n')}\n\n# a comment line\n`);
    const out = join(work, 'out');
    const r = await runCli(['compare', '--tiers', 'speed,comprehensive', '--prompts', file, '--out', out], { env, timeoutMs: 90_000 });
    expect(r.stderr).not.toMatch(/claude-tiers: /);
    expect(r.code).toBe(0);
    // Not a terminal: one progress line per finished run.
    expect(r.stderr.match(/^\[[#.]{24}\] \d+\/12 · prompt \d run 1 on \S+: /gm)).toHaveLength(12);

    const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as CompareJson;
    expect(json.aborted).toBe(false);
    expect(json.results.map((x) => `${x.prompt_index}:${x.tier}`)).toEqual([0, 1, 2, 3, 4, 5].flatMap((i) => [`${i}:speed`, `${i}:comprehensive`]));
    const failed = json.results.filter((x) => !x.success).map((x) => `${x.prompt_index}:${x.tier}`);
    expect(failed).toEqual(['4:speed']);
    for (const x of json.results.filter((y) => y.success)) {
      expect(x.task_id).toMatch(/^t_/);
      expect(x.first_event_ms).toBeGreaterThan(0);
      expect(x.first_event_ms!).toBeLessThan(x.latency_ms!);
      expect(x.cost_usd).toBeGreaterThan(0);
    }

    for (const [key, tier] of [['a', 'speed'], ['b', 'comprehensive']] as const) {
      const own = json.results.filter((x) => x.tier === tier);
      const s = json.summary[key];
      expect(s.tier).toBe(tier);
      expect(s.runs).toBe(6);
      expect(s.success_rate).toBeCloseTo(own.filter((x) => x.success).length / 6, 9);
      expect(s.latency_p50_ms).toBe(nearestRank(own.map((x) => x.latency_ms!), 50));
      expect(s.latency_p95_ms).toBe(nearestRank(own.map((x) => x.latency_ms!), 95));
      expect(s.first_event_p50_ms).toBe(nearestRank(own.map((x) => x.first_event_ms).filter((v): v is number => v !== null), 50));
      expect(s.cost_total_usd).toBeCloseTo(own.reduce((t, x) => t + x.cost_usd, 0), 12);
    }
    expect(json.summary.a.success_rate).toBeCloseTo(5 / 6, 9);
    expect(json.summary.b.success_rate).toBe(1);

    // The table on stdout shows the same numbers.
    const table = r.stdout;
    const { a, b, ratio_b_over_a: ratio } = json.summary;
    expect(table.split('\n')[0]).toMatch(/^metric\s+speed\s+comprehensive\s+b\/a$/);
    expect(row(table, 'success rate')).toEqual(['83.3%', '100.0%', `${(1 / (5 / 6)).toFixed(2)}x`]);
    expect(row(table, 'latency p50')).toEqual([`${a.latency_p50_ms} ms`, `${b.latency_p50_ms} ms`, `${(b.latency_p50_ms / a.latency_p50_ms).toFixed(2)}x`]);
    expect(row(table, 'first event p50')).toEqual([`${a.first_event_p50_ms} ms`, `${b.first_event_p50_ms} ms`, `${ratio.first_event_p50_ms!.toFixed(2)}x`]);
    expect(row(table, 'cost total')).toEqual([`$${a.cost_total_usd.toFixed(6)}`, `$${b.cost_total_usd.toFixed(6)}`, `${(b.cost_total_usd / a.cost_total_usd).toFixed(2)}x`]);
    expect(row(table, 'runs')).toEqual(['6', '6']);

    // The report: two inline SVG charts with their titles, nothing loaded from elsewhere, prompts escaped.
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html.match(/<svg\b/g)).toHaveLength(2);
    expect(html).toMatch(/<svg id="latency-chart"[^>]*><title[^>]*>Latency distribution per tier<\/title>/);
    expect(html).toMatch(/<svg id="cost-chart"[^>]*><title[^>]*>Cost per prompt \(mean USD per run\)<\/title>/);
    expect(html.match(/<circle /g)?.length).toBeGreaterThanOrEqual(12);
    expect(html).not.toMatch(/<script|<link|@import|url\(|(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).toContain('four &lt;b&gt;&amp;&lt;/b&gt;');
    expect(html).not.toContain('<b>&</b>');
  }, 180_000);

  it('refuses bad input with one line naming the option, before any claude starts', async () => {
    const before = api.messageRequests().length;
    const file = join(work, 'two.jsonl');
    writeFileSync(file, '{"prompt": "x"}\n{"prompt": \n');
    const cases: Array<[string[], RegExp, number]> = [
      [['compare', '--prompts', file], /^claude-tiers: --tiers is required/, 1],
      [['compare', '--tiers', 'speed', '--prompts', file], /^claude-tiers: --tiers: give exactly two tiers/, 1],
      [['compare', '--tiers', 'speed,nope', '--prompts', file], /^claude-tiers: --tiers: unknown tier "nope"; configured tiers: .*speed/, 1],
      [['compare', '--tiers', 'speed,comprehensive', '--prompts', file, '--runs', '0'], /^claude-tiers: --runs: must be a whole number from 1 to 20/, 1],
      [['compare', '--tiers', 'speed,comprehensive', '--prompts', file], /^claude-tiers: --prompts: .*two\.jsonl line 2 is not valid JSON/, 1],
      [['compare', '--tiers', 'speed,comprehensive', '--prompts', join(work, 'missing.jsonl')], /^claude-tiers: --prompts: cannot read .*missing\.jsonl \(ENOENT\)/, 1],
      [['compare', '--tiers', 'speed,comprehensive', '--prompts', file, '--fast'], /unknown option --fast for compare/, 2],
    ];
    for (const [args, says, code] of cases) {
      const r = await runCli(args, { env });
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(says);
      expect(r.code).toBe(code);
    }
    expect(api.messageRequests().length).toBe(before);
  });

  it('compare_tiers returns a compare_id at once; compare_status follows it to the summary and the report files', async () => {
    const s = await startServer(api, { stateDir: join(work, 'mcp-state') });
    try {
      const bad = await s.client.callTool({ name: 'compare_tiers', arguments: { tiers: ['speed'], prompts: ['x'] } });
      expect(bad.isError).toBe(true);
      expect(textOf(bad)).toMatch(/tiers/);
      const unknown = await s.client.callTool({ name: 'compare_tiers', arguments: { tiers: ['speed', 'nope'], prompts: ['x'] } });
      expect(textOf(unknown)).toMatch(/tiers: unknown tier "nope"/);

      const started = await s.client.callTool({ name: 'compare_tiers', arguments: { tiers: ['speed', 'comprehensive'], prompts: ['[[text:m1]] [[usage:800,80]]', '[[text:m2]]'] } });
      // "At once": it came back before the comparison had run (behaviour, not a clock).
      expect((started.structuredContent as { done: number }).done).toBeLessThan(4);
      const first = started.structuredContent as { compare_id: string; state: string; total: number };
      expect(first.compare_id).toMatch(/^c_[a-f0-9]+$/);
      expect(first).toMatchObject({ state: 'running', total: 4 });

      let status = first as unknown as { state: string; done: number; total: number; summary?: CompareJson['summary']; json_path?: string; html_path?: string; table?: string };
      for (let i = 0; i < 5 && status.state === 'running'; i++) {
        status = (await s.client.callTool({ name: 'compare_status', arguments: { compare_id: first.compare_id, wait_s: 30 } })).structuredContent as typeof status;
      }
      expect(status.state).toBe('done');
      expect(status.done).toBe(4);
      expect(status.json_path).toBe(join(s.stateDir, 'compare', first.compare_id, 'compare.json'));
      expect(existsSync(status.html_path!)).toBe(true);
      const json = JSON.parse(readFileSync(status.json_path!, 'utf8')) as CompareJson;
      expect(json.results.map((x) => x.tier)).toEqual(['speed', 'comprehensive', 'speed', 'comprehensive']);
      expect(json.summary).toEqual(status.summary);
      expect(status.summary!.a.success_rate).toBe(1);
      expect(status.table).toMatch(/^success rate\s+100\.0%\s+100\.0%\s+1\.00x$/m);
      // The tasks are ordinary deep tasks of the caller: task_status knows them.
      const task = await s.client.callTool({ name: 'task_status', arguments: { task_id: json.results[1]!.task_id } });
      expect(task.structuredContent).toMatchObject({ state: 'succeeded', tier: 'comprehensive' });

      const missing = await s.client.callTool({ name: 'compare_status', arguments: { compare_id: 'c_000000000000' } });
      expect(missing.isError).toBe(true);
      expect(textOf(missing)).toMatch(/compare_id: no comparison c_000000000000/);
    } finally {
      await s.close();
    }
  }, 180_000);
});
