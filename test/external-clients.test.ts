import { execFile } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { ROOT, SERVER_ENTRY, serverEnv, startHttpServer } from './support/harness.js';
import { externalTools, EXTERNAL } from './support/external-tools.js';

const run = promisify(execFile);
// Installs (once per checkout) Node 22, the MCP Inspector and the conformance suite from npm; skipped, saying why,
// without them.
const tools = await externalTools();
const have = 'node22' in tools;
if (!have) console.warn(`external-clients: skipped: ${tools.unavailable}`);

let api: ScriptedApi;
beforeAll(async () => {
  api = await startScriptedApi();
});
afterAll(async () => {
  await api?.close();
});

describe.runIf(have)(`MCP Inspector CLI (${EXTERNAL.inspector}, Node 22)`, () => {
  const inspector = async (args: string[]) => {
    const t = tools as Exclude<typeof tools, { unavailable: string }>;
    const { env } = await serverEnv(api);
    // The inspector gives the server only a default environment plus -e pairs: pass what claude-tiers and claude need.
    const envFlags = Object.entries(env)
      .filter(([k, v]) => /^(ANTHROPIC_|CLAUDE_|HOME$|PATH$)/.test(k) && v)
      .flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const { stdout } = await run(
      t.node22,
      [t.inspector, '--cli', '-q', ...envFlags, process.execPath, SERVER_ENTRY, ...args],
      { cwd: ROOT, timeout: 60_000 },
    );
    return JSON.parse(stdout) as Record<string, unknown>;
  };

  it('lists the tools over stdio', async () => {
    const out = (await inspector(['--method', 'tools/list'])) as { tools: Array<{ name: string }> };
    expect(out.tools.map((t) => t.name).sort()).toEqual([
      'answer_task',
      'compare_status',
      'compare_tiers',
      'deep_task',
      'kill_task',
      'list_tasks',
      'merge_task',
      'quick_answer',
      'server_stats',
      'task_status',
    ]);
  });

  it('calls quick_answer, which runs the real claude against the scripted API', async () => {
    const out = (await inspector([
      '--method',
      'tools/call',
      '--tool-name',
      'quick_answer',
      '--tool-arg',
      'prompt=from the inspector [[text:inspector ok]]',
    ])) as { content: Array<{ text: string }>; structuredContent: { answer: string } };
    expect(out.structuredContent.answer).toBe('inspector ok');
    expect(out.content[0]!.text).toBe('inspector ok');
  });
});

describe.runIf(have)(`MCP conformance suite (${EXTERNAL.conformance}, Node 22) against serve --http`, () => {
  const TOKEN = 'conformance-token-0123456789';
  let closeServer: (() => Promise<void>) | undefined;
  let proxy: Server;
  let proxyUrl: string;

  beforeAll(async () => {
    const { env } = await serverEnv(api, {
      env: { CLAUDE_TIERS_HTTP_TOKEN: TOKEN, CLAUDE_TIERS_STATE_DIR: mkdtempSync(join(tmpdir(), 'ct-conf-')) },
    });
    const started = await startHttpServer(env);
    closeServer = started.close;
    const target = new URL(started.url);
    // The suite cannot send a bearer token: a loopback proxy adds it and forwards Host/Origin untouched,
    // so the server's host and origin checks still see what the suite sent.
    proxy = createServer((req, res) => {
      const up = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, authorization: `Bearer ${TOKEN}` },
        },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', (e) => (res.headersSent ? res.destroy() : res.writeHead(502).end(String(e))));
      req.pipe(up);
      res.on('close', () => up.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}${target.pathname}`;
  });
  afterAll(async () => {
    proxy?.close();
    await closeServer?.();
  });

  it('passes every scenario except the documented expected failures', async () => {
    const t = tools as Exclude<typeof tools, { unavailable: string }>;
    const expected = join(ROOT, 'test', 'conformance', 'expected-failures.yml');
    const result = await run(t.node22, [t.conformance, 'server', '--url', proxyUrl, '--expected-failures', expected], {
      cwd: mkdtempSync(join(tmpdir(), 'ct-conf-out-')),
      timeout: 120_000,
    }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: e.code ?? -1,
        out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
      }),
    );
    console.log(result.out.slice(result.out.indexOf('=== SUMMARY ===')));
    expect(result.code, result.out).toBe(0);
    for (const scenario of ['server-initialize', 'ping', 'tools-list', 'resources-list', 'dns-rebinding-protection']) {
      expect(result.out).toMatch(new RegExp(`✓ ${scenario}\\b`));
    }
  });
});
