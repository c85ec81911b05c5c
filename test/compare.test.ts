import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costChart } from '../src/compare/cost-chart.js';
import type { CompareResult } from '../src/compare/types.js';
import { CompareStatusSchema, type CompareStatus } from '../src/shapes/compare.js';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import {
  isAlive,
  processesMatching,
  REAL_CLAUDE,
  ROOT,
  runCli,
  SERVER_ENTRY,
  serverEnv,
  startCli,
  startHttpServer,
  startServer,
  textOf,
  uniqueSleep,
  waitFor,
} from './support/harness.js';

let api: ScriptedApi;
let env: Record<string, string>;
let work: string;

beforeAll(async () => {
  api = await startScriptedApi();
  work = mkdtempSync(join(tmpdir(), 'ct-compare-'));
  env = {
    ...claudeEnv(api, await makeTempHome()),
    CLAUDE_TIERS_STATE_DIR: join(work, 'state'),
    CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE,
    CLAUDE_TIERS_CONFIG: join(ROOT, 'test', 'support', 'no-mcp.config.json'),
  };
});
afterAll(async () => {
  await api?.close();
});

// A compare status as a tool result carries it.
const structuredOf = (r: unknown) =>
  (r as { structuredContent: { compare_id: string; state: string; stopped_by?: string } }).structuredContent;

// A compare status as a tool result carries it, checked against its schema (strictly: a field the schema does not
// name fails the test too).
const statusOf = (r: unknown): CompareStatus =>
  CompareStatusSchema.strict().parse((r as { structuredContent?: unknown }).structuredContent);

// Nearest-rank percentile, computed here independently of the code under test.
const nearestRank = (values: number[], p: number) =>
  [...values].sort((x, y) => x - y)[Math.ceil((p / 100) * values.length) - 1]!;
// The cells of one table row, found by its label (columns are separated by two or more spaces).
const row = (table: string, label: string) =>
  table
    .split('\n')
    .find((l) => l.split(/\s{2,}/)[0] === label)
    ?.split(/\s{2,}/)
    .slice(1) ?? [];

// The cost chart's bars as drawn: tier, dollars (from the tooltip) and height in chart units (the plot is 280 high).
const PLOT_H = 280;
function costBars(svg: string): Array<{ tier: string; usd: number; height: number }> {
  const re = /<rect [^>]*height="([\d.]+)" fill="#[0-9a-f]+"><title>prompt \d+ on (\S+): \$([\d.]+)/g;
  return [...svg.matchAll(re)].map((m) => ({ tier: m[2]!, usd: Number(m[3]), height: Number(m[1]) }));
}
// Every bar of a non-zero cost is tall enough to see (a twentieth of the plot), and carries its value as text.
function expectVisibleBars(html: string): void {
  const svg = html.slice(
    html.indexOf('<svg id="cost-chart"'),
    html.indexOf('</svg>', html.indexOf('<svg id="cost-chart"')),
  );
  const bars = costBars(svg).filter((b) => b.usd > 0);
  expect(bars.length).toBeGreaterThan(0);
  for (const b of bars) expect(b.height, `${b.tier} bar of $${b.usd}`).toBeGreaterThanOrEqual(PLOT_H / 20);
  const labels = [...svg.matchAll(/<text class="value"[^>]*>\$([\d.]+)<\/text>/g)].map((m) => Number(m[1]));
  // The tooltip has micro-dollars; the label three significant digits.
  for (const b of bars)
    expect(
      labels.some((l) => Math.abs(l - b.usd) <= b.usd * 0.01 + 5e-7),
      `label of $${b.usd}`,
    ).toBe(true);
}

// A report that reads on a 420 px phone: the viewport is the device's, tables scroll inside their box (the page
// never does), and the charts scale to the width through their viewBox.
function expectNarrowReady(html: string): void {
  expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  expect(html).toMatch(/\.scroll \{ overflow-x: auto;/);
  expect(html.match(/<div class="scroll"><table/g)?.length).toBe((html.match(/<table/g) ?? []).length);
  expect(html).toMatch(/svg \{[^}]*width: 100%;[^}]*height: auto;/);
  expect(html).toMatch(/@media \(max-width: 600px\)/);
  for (const svg of html.match(/<svg [^>]*>/g) ?? []) expect(svg).toMatch(/viewBox="0 0 \d+ \d+"/);
}

// Runs the CLI under a pseudo-terminal (util-linux `script`), as a person at a terminal would; output is the tty's.
function runCliInTerminal(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const command = [process.execPath, SERVER_ENTRY, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const proc = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { ...env, COLUMNS: '200' },
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 90_000);
    proc.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
const hasScript = existsSync('/usr/bin/script') || existsSync('/bin/script');

describe('compare (A/B comparison of two tiers)', () => {
  it(
    'runs 6 prompts on speed and comprehensive, interleaved; the table, compare.json and report.html ' + 'agree',
    async () => {
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
      const r = await runCli(['compare', '--tiers', 'speed,comprehensive', '--prompts', file, '--out', out], {
        env,
        timeoutMs: 90_000,
      });
      expect(r.stderr).not.toMatch(/claude-tiers: /);
      expect(r.code).toBe(0);
      // Not a terminal: one progress line per finished run.
      expect(r.stderr.match(/^\[[#.]{24}\] \d+\/12 · prompt \d run 1 on \S+: /gm)).toHaveLength(12);

      const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as CompareResult;
      expect(json.aborted).toBe(false);
      expect(json.results.map((x) => `${x.prompt_index}:${x.tier}`)).toEqual(
        [0, 1, 2, 3, 4, 5].flatMap((i) => [`${i}:speed`, `${i}:comprehensive`]),
      );
      const failed = json.results.filter((x) => !x.success).map((x) => `${x.prompt_index}:${x.tier}`);
      expect(failed).toEqual(['4:speed']);
      for (const x of json.results.filter((y) => y.success)) {
        expect(x.task_id).toMatch(/^t_/);
        expect(x.first_event_ms).toBeGreaterThan(0);
        expect(x.first_event_ms!).toBeLessThan(x.latency_ms!);
        expect(x.cost_usd).toBeGreaterThan(0);
      }

      for (const [key, tier] of [
        ['a', 'speed'],
        ['b', 'comprehensive'],
      ] as const) {
        const own = json.results.filter((x) => x.tier === tier);
        const s = json.summary[key];
        expect(s.tier).toBe(tier);
        expect(s.runs).toBe(6);
        expect(s.success_rate).toBeCloseTo(own.filter((x) => x.success).length / 6, 9);
        expect(s.latency_p50_ms).toBe(
          nearestRank(
            own.map((x) => x.latency_ms!),
            50,
          ),
        );
        expect(s.latency_p95_ms).toBe(
          nearestRank(
            own.map((x) => x.latency_ms!),
            95,
          ),
        );
        expect(s.first_event_p50_ms).toBe(
          nearestRank(
            own.map((x) => x.first_event_ms).filter((v): v is number => v !== null),
            50,
          ),
        );
        expect(s.cost_total_usd).toBeCloseTo(
          own.reduce((t, x) => t + x.cost_usd, 0),
          12,
        );
      }
      expect(json.summary.a.success_rate).toBeCloseTo(5 / 6, 9);
      expect(json.summary.b.success_rate).toBe(1);

      // The table on stdout shows the same numbers.
      const table = r.stdout;
      const { a, b, ratio_b_over_a: ratio } = json.summary;
      expect(table.split('\n')[0]).toMatch(/^metric\s+speed\s+comprehensive\s+b\/a$/);
      expect(row(table, 'success rate')).toEqual(['83.3%', '100.0%', `${(1 / (5 / 6)).toFixed(2)}x`]);
      expect(row(table, 'latency p50')).toEqual([
        `${a.latency_p50_ms} ms`,
        `${b.latency_p50_ms} ms`,
        `${(b.latency_p50_ms! / a.latency_p50_ms!).toFixed(2)}x`,
      ]);
      expect(row(table, 'first event p50')).toEqual([
        `${a.first_event_p50_ms} ms`,
        `${b.first_event_p50_ms} ms`,
        `${ratio.first_event_p50_ms!.toFixed(2)}x`,
      ]);
      expect(row(table, 'cost total')).toEqual([
        `$${a.cost_total_usd.toFixed(6)}`,
        `$${b.cost_total_usd.toFixed(6)}`,
        `${(b.cost_total_usd / a.cost_total_usd).toFixed(2)}x`,
      ]);
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

      // The failed run says why, on the terminal and in the report (in the open, not only in the folded table).
      const reason = json.results.find((x) => !x.success)!.error!;
      expect(reason).toMatch(/400/);
      expect(r.stderr).toMatch(/^\[[#.]{24}\] \d+\/12 · prompt 5 run 1 on speed: failed [\d.]+ s \$[\d.]+ · .*400/m);
      expect(html).toMatch(
        new RegExp(
          String.raw`<h2 class="bad">Failed runs \(1 of 12\)<\/h2>\n` +
            String.raw`<ul class="failures"><li><b>prompt 5 run 1 on speed<\/b> \(failed, t_[^)]+\): [^<]*400`,
        ),
      );
      expectNarrowReady(html);
      expectVisibleBars(html);
    },
    180_000,
  );

  it(
    'every run failing: each reason on stderr and in the report, then one error line and exit 1; 1 prompt, 1 ' + 'run',
    async () => {
      const file = join(work, 'failing.jsonl');
      writeFileSync(file, '{"prompt": "always [[error:400]]"}\n');
      const out = join(work, 'out-failing');
      const r = await runCli(['compare', '--tiers', 'speed,comprehensive', '--prompts', file, '--out', out], {
        env,
        timeoutMs: 90_000,
      });
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      // One progress line per run, each with the API's reason; then where the report went; then the one error line.
      expect(
        lines.filter((l) =>
          /^\[[#.]{24}\] \d\/2 · prompt 1 run 1 on (speed|comprehensive): failed .* · .*scripted 400 error/.test(l),
        ),
      ).toHaveLength(2);
      expect(lines.filter((l) => l.startsWith('claude-tiers: '))).toEqual([
        expect.stringMatching(/^claude-tiers: every run failed \(2 runs\); the first reason: .*scripted 400 error/),
      ]);
      expect(lines.at(-1)).toMatch(/^claude-tiers: every run failed/);
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      expect(html).toContain('Failed runs (2 of 2)');
      expect(html.match(/<ul class="failures">.*<\/ul>/)![0].match(/scripted 400 error/g)).toHaveLength(2);
      expect(html.match(/<td class="reason">[^<]*scripted 400 error/g)).toHaveLength(2);
      // Counts read as English: one prompt, one run per tier.
      expect(html).toContain('1 prompt × 1 run per tier, 2 of 2 runs done');
      expect(html.match(/>1 run<\/text>/g)).toHaveLength(2);
      expect(html).not.toMatch(/\b1 (runs|prompts)\b/);
    },
    120_000,
  );

  it(
    'Ctrl-C in the first run: no run is left, and the table shows "–" (not 0.0%) for rates and means of no ' + 'runs',
    async () => {
      const file = join(work, 'hang.jsonl');
      writeFileSync(file, '{"prompt": "hangs [[hang]]"}\n');
      const out = join(work, 'out-stopped');
      const before = api.messageRequests((q) => q.firstUserText.includes('hangs')).length;
      const cli = startCli(['compare', '--tiers', 'speed,comprehensive', '--prompts', file, '--out', out], { env });
      const { proc, closed } = cli;
      try {
        expect(
          await waitFor(() => api.messageRequests((q) => q.firstUserText.includes('hangs')).length > before, 60_000),
        ).toBe(true);
        proc.kill('SIGINT');
        expect(await closed).toBe(130);
      } finally {
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      const stdout = cli.stdout();
      expect(cli.stderr()).toMatch(/stopped early; wrote/);
      expect(row(stdout, 'runs')).toEqual(['0', '0']);
      for (const label of ['success rate', 'latency p50', 'cost mean', 'turns mean', 'output tokens mean'])
        expect(row(stdout, label)).toEqual(['–', '–', '–']);
      expect(stdout).not.toMatch(/0\.0%/);
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      expect(html).toContain('0 of 2 runs done (stopped early)');
      expect(html).not.toMatch(/0\.0%/);
      expect(html.match(/>0 runs<\/text>/g)).toHaveLength(2);
    },
    120_000,
  );

  it.skipIf(!hasScript)(
    'in a terminal the progress line moves while a run goes: its elapsed time and its last event; both ' +
      'tiers show in the cost chart',
    async () => {
      const file = join(work, 'slow.jsonl');
      writeFileSync(file, '{"prompt": "slow [[bash:echo started; sleep 4]] [[text:done]]"}\n');
      const out = join(work, 'out-tty');
      const r = await runCliInTerminal(
        ['compare', '--tiers', 'comprehensive,speed', '--prompts', file, '--out', out],
        env,
      );
      expect(r.code, r.out).toBe(0);
      // Each redraw starts with CR + erase-line; the frames of the first run, while it goes.
      const frames = r.out.split('\r\x1b[2K').filter((f) => f.includes('prompt 1 run 1 on comprehensive: running'));
      const elapsed = (f: string) => Number(/: running (\d+) s · /.exec(f)?.[1]);
      const withBash = frames.filter((f) => f.includes('Bash: echo started; sleep 4'));
      expect(withBash.length, r.out).toBeGreaterThan(1);
      // The line moved while the Bash command ran: at least two different elapsed times, none going back.
      const times = withBash.map(elapsed);
      expect(new Set(times).size).toBeGreaterThan(1);
      expect(times).toEqual([...times].sort((x, y) => x - y));
      expect(frames.some((f) => /· total \d+ s/.test(f))).toBe(true);

      // comprehensive (a Bash turn on opus) costs tens of times speed's answer: both bars still show, with their
      // values.
      const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as CompareResult;
      const [ca, cb] = [json.summary.a.cost_total_usd, json.summary.b.cost_total_usd];
      expect(Math.max(ca, cb) / Math.min(ca, cb)).toBeGreaterThan(10);
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      expectVisibleBars(html);
      expect(html).toContain('mean cost per run, USD (log scale)');
    },
    120_000,
  );

  it('the cost chart keeps a tier 40x cheaper visible and labelled', () => {
    const run = (tier: string, cost: number) => ({
      prompt_index: 0,
      run: 1,
      tier,
      state: 'succeeded',
      success: true,
      latency_ms: 1,
      first_event_ms: 1,
      cost_usd: cost,
      turns: 1,
      output_tokens: 1,
    });
    const svg = costChart(['speed', 'comprehensive'], ['p'], [run('speed', 0.001), run('comprehensive', 0.04)]);
    expectVisibleBars(`<svg id="cost-chart"${svg.slice('<svg id="cost-chart"'.length)}`);
    expect(costBars(svg).map((b) => b.tier)).toEqual(['speed', 'comprehensive']);
  });

  it('refuses bad input with one line naming the option, before any claude starts', async () => {
    const before = api.messageRequests().length;
    const file = join(work, 'two.jsonl');
    writeFileSync(file, '{"prompt": "x"}\n{"prompt": \n');
    const cases: Array<[string[], RegExp, number]> = [
      [['compare', '--prompts', file], /^claude-tiers: --tiers is required/, 2],
      [['compare', '--tiers', 'speed', '--prompts', file], /^claude-tiers: --tiers: give exactly two tiers/, 2],
      [
        ['compare', '--tiers', 'speed,nope', '--prompts', file],
        /^claude-tiers: --tiers: unknown tier "nope"; configured tiers: .*speed/,
        2,
      ],
      [
        ['compare', '--tiers', 'speed,comprehensive', '--prompts', file, '--runs', '0'],
        /^claude-tiers: --runs: must be a whole number from 1 to 20/,
        2,
      ],
      [
        ['compare', '--tiers', 'speed,comprehensive', '--prompts', file],
        /^claude-tiers: --prompts: .*two\.jsonl line 2 is not valid JSON/,
        2,
      ],
      [
        ['compare', '--tiers', 'speed,comprehensive', '--prompts', join(work, 'missing.jsonl')],
        /^claude-tiers: --prompts: cannot read .*missing\.jsonl \(ENOENT\)/,
        2,
      ],
      [
        ['compare', '--tiers', 'speed,comprehensive', '--prompts', file, '--fast'],
        /unknown option --fast for compare/,
        2,
      ],
    ];
    for (const [args, says, code] of cases) {
      const r = await runCli(args, { env });
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(says);
      expect(r.code).toBe(code);
    }
    expect(api.messageRequests().length).toBe(before);
  });

  it('MCP cancellation of a compare_tiers call that waits (wait_s) stops its comparison and its claude', async () => {
    // Over stdio: the client's notifications/cancelled reaches the very request that waits.
    const server = await startServer(api);
    const a = server.client;
    const s = uniqueSleep(120);
    const controller = new AbortController();
    const call = a.callTool(
      {
        name: 'compare_tiers',
        arguments: { tiers: ['comprehensive', 'speed'], prompts: [`[[bash:echo started; sleep ${s}]]`], wait_s: 50 },
      },
      { signal: controller.signal },
    );
    call.catch(() => {});
    expect(await waitFor(() => processesMatching(`sleep ${s}`).length > 0, 60_000)).toBe(true);
    const pids = processesMatching(`sleep ${s}`).map((p) => p.pid);
    controller.abort('the user pressed Esc');
    await expect(call).rejects.toThrow();
    expect(await waitFor(() => pids.every((p) => !isAlive(p)), 15_000)).toBe(true);
    // The comparison is stopped (it shows among the caller's recent ones), and its place is free again.
    const listed = await a.callTool({ name: 'compare_status', arguments: { compare_id: 'c_000000000000' } });
    const id = /recent: (.*)$/.exec(textOf(listed))![1]!.split(', ').at(-1)!;
    const status = await waitFor(
      async () => {
        const st = structuredOf(await a.callTool({ name: 'compare_status', arguments: { compare_id: id } }));
        return st.state !== 'running' ? st : undefined;
      },
      15_000,
      200,
    );
    expect(status).toMatchObject({ state: 'stopped', stopped_by: 'compare_tiers (request cancelled)' });
    await server.close();
  }, 120_000);

  it(
    'compare_tiers returns a compare_id at once; compare_status follows it to the summary and the report ' + 'files',
    async () => {
      const s = await startServer(api, { stateDir: join(work, 'mcp-state') });
      try {
        const bad = await s.client.callTool({ name: 'compare_tiers', arguments: { tiers: ['speed'], prompts: ['x'] } });
        expect(bad.isError).toBe(true);
        expect(textOf(bad)).toMatch(/tiers/);
        const unknown = await s.client.callTool({
          name: 'compare_tiers',
          arguments: { tiers: ['speed', 'nope'], prompts: ['x'] },
        });
        expect(textOf(unknown)).toMatch(/tiers: unknown tier "nope"/);

        const started = await s.client.callTool({
          name: 'compare_tiers',
          arguments: { tiers: ['speed', 'comprehensive'], prompts: ['[[text:m1]] [[usage:800,80]]', '[[text:m2]]'] },
        });
        // "At once": it came back before the comparison had run (behaviour, not a clock).
        expect((started.structuredContent as { done: number }).done).toBeLessThan(4);
        const first = started.structuredContent as { compare_id: string; state: string; total: number };
        expect(first.compare_id).toMatch(/^c_[a-f0-9]+$/);
        expect(first).toMatchObject({ state: 'running', total: 4 });

        let status = first as unknown as {
          state: string;
          done: number;
          total: number;
          summary?: CompareResult['summary'];
          json_path?: string;
          html_path?: string;
          table?: string;
        };
        for (let i = 0; i < 5 && status.state === 'running'; i++) {
          status = (
            await s.client.callTool({ name: 'compare_status', arguments: { compare_id: first.compare_id, wait_s: 30 } })
          ).structuredContent as typeof status;
        }
        expect(status.state).toBe('done');
        expect(status.done).toBe(4);
        expect(status.json_path).toBe(join(s.stateDir, 'compare', first.compare_id, 'compare.json'));
        expect(existsSync(status.html_path!)).toBe(true);
        const json = JSON.parse(readFileSync(status.json_path!, 'utf8')) as CompareResult;
        expect(json.results.map((x) => x.tier)).toEqual(['speed', 'comprehensive', 'speed', 'comprehensive']);
        expect(json.summary).toEqual(status.summary);
        expect(status.summary!.a.success_rate).toBe(1);
        expect(status.table).toMatch(/^success rate\s+100\.0%\s+100\.0%\s+1\.00x$/m);
        // The tasks are ordinary deep tasks of the caller: task_status knows them.
        const task = await s.client.callTool({ name: 'task_status', arguments: { task_id: json.results[1]!.task_id } });
        expect(task.structuredContent).toMatchObject({ state: 'succeeded', tier: 'comprehensive' });

        const missing = await s.client.callTool({
          name: 'compare_status',
          arguments: { compare_id: 'c_000000000000' },
        });
        expect(missing.isError).toBe(true);
        expect(textOf(missing)).toMatch(/compare_id: no comparison c_000000000000/);
      } finally {
        await s.close();
      }
    },
    180_000,
  );

  it('declares output schemas for compare_tiers and compare_status, and their results match them', async () => {
    const s = await startServer(api, { stateDir: join(work, 'schema-state') });
    try {
      const tools = (await s.client.listTools()).tools;
      for (const name of ['compare_tiers', 'compare_status']) {
        const schema = tools.find((t) => t.name === name)?.outputSchema as { type?: string; properties?: object };
        expect(schema?.type, name).toBe('object');
        expect(Object.keys(schema?.properties ?? {}), name).toEqual(
          expect.arrayContaining(['compare_id', 'state', 'tiers', 'done', 'total', 'summary']),
        );
      }
      // The client checks each structuredContent against the declared schema; statusOf checks it again.
      const started = statusOf(
        await s.client.callTool({
          name: 'compare_tiers',
          arguments: { tiers: ['speed', 'comprehensive'], prompts: ['[[text:schema]]'] },
        }),
      );
      expect(started).toMatchObject({ state: 'running', total: 2 });
      let status = started;
      for (let i = 0; i < 5 && status.state === 'running'; i++) {
        status = statusOf(
          await s.client.callTool({
            name: 'compare_status',
            arguments: { compare_id: started.compare_id, wait_s: 30 },
          }),
        );
      }
      expect(status).toMatchObject({ compare_id: started.compare_id, state: 'done', done: 2, total: 2 });
      expect(status.summary?.a.tier).toBe('speed');
    } finally {
      await s.close();
    }
  }, 180_000);
});

// Issue 19, item 8: comparisons are shared fairly between principals, and one can be stopped.
describe('compare_tiers over HTTP: a share per token, and cancel', () => {
  const A = 'token-a-0123456789abcdef';
  const C = 'token-c-0123456789abcdef';
  let http: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  const clients: Client[] = [];
  beforeAll(async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'ct-compare-share-')), 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        tiers: { comprehensive: { mcpConfig: null } },
        httpTokens: [
          { name: 'a', token: A },
          { name: 'c', token: C },
        ],
      }),
    );
    http = await startHttpServer(
      (
        await serverEnv(api, {
          env: { CLAUDE_TIERS_CONFIG: config, CLAUDE_TIERS_HTTP_TOKEN: 'main-token-0123456789abcdef' },
        })
      ).env,
    );
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await http?.close();
  });
  async function as(token: string): Promise<Client> {
    const client = new Client({ name: 'compare-share-test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(http!.url), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
    clients.push(client);
    return client;
  }
  type Status = {
    compare_id: string;
    state: string;
    done: number;
    stopped_by?: string;
    current?: { task_id?: string; progress: string };
  };
  const structured = (r: unknown) => (r as { structuredContent: Status }).structuredContent;

  it(
    'token A over its share is refused with its own numbers while token C still starts; kill_task { ' +
      'compare_id } stops a comparison and its claude, freeing the place',
    async () => {
      const a = await as(A);
      const c = await as(C);
      // Bash on the comprehensive tier first: each comparison's first run is a long command, easy to find and to see
      // gone.
      const sleeps = [uniqueSleep(120), uniqueSleep(120), uniqueSleep(120)];
      const start = (client: Client, s: string) =>
        client.callTool({
          name: 'compare_tiers',
          arguments: { tiers: ['comprehensive', 'speed'], prompts: [`[[bash:echo started; sleep ${s}]]`] },
        });
      const a1 = structured(await start(a, sleeps[0]!));
      const a2 = structured(await start(a, sleeps[1]!));
      expect([a1.state, a2.state]).toEqual(['running', 'running']);
      const refused = await start(a, uniqueSleep(120));
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toBe(
        `refused: you already run 2 comparisons (${a1.compare_id}, ${a2.compare_id}), your share is 2 at ` +
          `once; wait for one with compare_status or stop one with kill_task { compare_id }`,
      );
      // C's place is its own: A's two comparisons do not take it.
      const c1 = await start(c, sleeps[2]!);
      expect(c1.isError).toBeFalsy();
      expect(structured(c1).state).toBe('running');

      // The run going now shows in compare_status (its task and last event).
      const watched = await waitFor(
        async () => {
          const st = structured(await a.callTool({ name: 'compare_status', arguments: { compare_id: a1.compare_id } }));
          return st.current?.progress.includes('Bash: echo started') ? st : undefined;
        },
        60_000,
        300,
      );
      expect(watched?.current?.task_id).toMatch(/^t_/);
      expect(await waitFor(() => processesMatching(`sleep ${sleeps[0]}`).length > 0, 30_000)).toBe(true);

      // Another token cannot stop it; its owner can: the claude run is killed, the comparison stops, the place is free.
      const foreign = await c.callTool({ name: 'kill_task', arguments: { compare_id: a1.compare_id } });
      expect(foreign.isError).toBe(true);
      expect(textOf(foreign)).toMatch(/compare_id: no comparison/);
      const stopped = await a.callTool({
        name: 'kill_task',
        arguments: { compare_id: a1.compare_id, reason: 'enough' },
      });
      expect(structured(stopped)).toMatchObject({
        compare_id: a1.compare_id,
        state: 'stopped',
        done: 0,
        stopped_by: 'kill_task (enough)',
      });
      expect(await waitFor(() => processesMatching(`sleep ${sleeps[0]}`).length === 0, 15_000)).toBe(true);
      const task = await a.callTool({ name: 'task_status', arguments: { task_id: watched!.current!.task_id! } });
      expect(task.structuredContent).toMatchObject({ state: 'killed' });
      // The task's end names who stopped the comparison.
      expect(JSON.stringify(task.structuredContent)).toMatch(/killed by kill_task \(enough\)/);
      const again = await start(a, uniqueSleep(120));
      expect(again.isError).toBeFalsy();
      // Stopping twice is harmless: the same final status.
      expect(structured(await a.callTool({ name: 'kill_task', arguments: { compare_id: a1.compare_id } })).state).toBe(
        'stopped',
      );
      for (const [client, id] of [
        [a, a2.compare_id],
        [a, structured(again).compare_id],
        [c, structured(c1).compare_id],
      ] as const) {
        expect(structured(await client.callTool({ name: 'kill_task', arguments: { compare_id: id } })).state).toBe(
          'stopped',
        );
      }
      for (const s of sleeps)
        expect(await waitFor(() => processesMatching(`sleep ${s}`).length === 0, 15_000)).toBe(true);
    },
    150_000,
  );
});
