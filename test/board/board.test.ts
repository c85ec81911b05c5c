import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect as connectTcp, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { AppBridge } from '@modelcontextprotocol/ext-apps/app-bridge';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, serverEnv, startHttpServer, startServer, uniqueSleep, waitForValue } from '../support/harness.js';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { viewOf, type TaskView as View } from '../support/views.js';

// Issue 22: the board, in a real browser (Debian's chromium driven by playwright-core), against the real server,
// real claude and the scripted API. One server, one browser for the whole file.
const MAIN = 'board-main-token-0123456789';
const BOB = 'board-bob-token-0123456789ab';
const DOCS = join(ROOT, 'docs');
let api: ScriptedApi;
let server: Awaited<ReturnType<typeof startHttpServer>>;
let base: string;
let repo: string;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let mcp: Client;
let bob: Client;
const requests: string[] = [];
let hook: Server;
const notes: Array<{ task_id: string; links?: { allow: string; deny: string } }> = [];
const consoleErrors: string[] = [];
const uniq = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
// Bash is not pre-allowed: a command that reaches the network asks for permission.
const asking = (tag: string) => `[[bash:curl -s http://127.0.0.1:9/; echo ${tag}]]`;

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'board-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}
async function until(id: string, done: (v: View) => boolean, client = mcp): Promise<View> {
  const end = Date.now() + 60_000;
  let v = viewOf(await client.callTool({ name: 'task_status', arguments: { task_id: id } }));
  while (!done(v) && Date.now() < end)
    v = viewOf(await client.callTool({ name: 'task_status', arguments: { task_id: id, wait_s: 5, cursor: v.cursor } }));
  return v;
}
const deep = async (args: Record<string, unknown>, client = mcp) =>
  viewOf(await client.callTool({ name: 'deep_task', arguments: { cwd: repo, wait_s: 0, ...args } })).task_id;
const stateOf = (id: string) => page.locator(`tr[data-task="${id}"] [data-testid="row-state"]`);
const taskState = () => page.locator('[data-testid="task-state"]');
async function login(p: Page, token: string): Promise<void> {
  await p.goto(`${base}/`);
  await p.fill('#token', token);
  await p.click('button[type="submit"]');
  await p.waitForSelector('[data-testid="who"]');
}

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      notes.push(JSON.parse(body) as { task_id: string; links?: { allow: string; deny: string } });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  api = await startScriptedApi();
  repo = mkdtempSync(join(tmpdir(), 'ct-board-repo-'));
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README'), 'base line\nsecond line\n');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-qm', 'base');
  const config = join(mkdtempSync(join(tmpdir(), 'ct-board-cfg-')), 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      allowedRoots: [repo],
      tiers: { comprehensive: { mcpConfig: null, allowedTools: ['Read'], permissionTimeoutS: 120 } },
      httpTokens: [{ name: 'bob', token: BOB }],
      budgets: { default: 5 },
      notify: {
        url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
        secret: 'board-notify-secret-0123',
        backoffMs: 50,
        events: ['needs_input'],
      },
    }),
  );
  const { env } = await serverEnv(api, { env: { CLAUDE_TIERS_CONFIG: config, CLAUDE_TIERS_HTTP_TOKEN: MAIN } });
  server = await startHttpServer(env);
  base = server.url.replace(/\/mcp$/, '');
  [mcp, bob] = await Promise.all([connect(MAIN), connect(BOB)]);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  page = await ctx.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  mkdirSync(DOCS, { recursive: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await Promise.allSettled([mcp?.close(), bob?.close()]);
  await server?.close();
  await api?.close();
  await new Promise((r) => hook?.close(r));
});

describe('the board in a browser', () => {
  it(
    'login: a wrong token is refused; the right one gives an HttpOnly, SameSite=Strict cookie that is not the ' +
      'token',
    async () => {
      // (In a context of its own: the refused login is a 401, which the browser logs as a console error.)
      const refused = await browser.newContext();
      const r = await refused.newPage();
      await r.goto(`${base}/`);
      await r.fill('#token', 'not-a-token-at-all-000000');
      await r.click('button[type="submit"]');
      await expect.poll(() => r.locator('.error').textContent(), { timeout: 30_000 }).toContain('not valid');
      expect(await refused.cookies()).toEqual([]);
      await refused.close();
      await login(page, MAIN);
      expect(await page.locator('[data-testid="who"]').textContent()).toBe('token:default');
      const [cookie] = await ctx.cookies();
      expect(cookie).toMatchObject({ name: 'ct_board', httpOnly: true, sameSite: 'Strict' });
      expect(cookie!.value).not.toContain(MAIN);
      const csp = (await page.request.get(`${base}/`)).headers()['content-security-policy'];
      expect(csp).toMatch(/default-src 'self'/);
    },
  );

  it(
    'a task started over MCP shows in the list, and its state changes show, without a reload (latency ' + 'measured)',
    async () => {
      const t0 = Date.now();
      const id = await deep({ prompt: `[[bash:echo live-${uniq()}; sleep 2]]` });
      const called = Date.now();
      await stateOf(id).waitFor({ timeout: 10_000 });
      const shown = Date.now();
      await expect.poll(() => stateOf(id).textContent(), { timeout: 60_000 }).toBe('succeeded');
      const done = await until(id, (v) => v.final);
      expect(done.state).toBe('succeeded');
      // The final state: from the MCP long-poll seeing it to the browser having it (the browser is usually first: <=
      // 0).
      const killId = await deep({ prompt: `[[bash:echo k; sleep ${uniqueSleep()}]]` });
      await expect.poll(() => stateOf(killId).textContent(), { timeout: 30_000 }).toBe('running');
      await mcp.callTool({ name: 'kill_task', arguments: { task_id: killId } });
      const killed = Date.now();
      await expect.poll(() => stateOf(killId).textContent(), { timeout: 10_000, interval: 20 }).toBe('killed');
      const killShown = Date.now() - killed;
      console.log(
        `board latency: new task row ${shown - called} ms after deep_task returned (${shown - t0} ms after it ` +
          `was sent); killed shown ${killShown} ms after kill_task returned`,
      );
      expect(shown - called).toBeLessThan(10_000);
    },
  );

  it('prompt and output holding <script> and <img onerror> show as text; nothing runs', async () => {
    const evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    const id = await deep({ prompt: `[[text:${evil}]] ${evil}` });
    expect((await until(id, (v) => v.final)).state).toBe('succeeded');
    await page.click(`tr[data-task="${id}"]`);
    await expect
      .poll(() => page.locator('[data-testid="result"]').textContent(), { timeout: 10_000 })
      .toContain('<script>window.__xss=2</script>');
    expect(await page.locator('[data-testid="prompt"]').textContent()).toContain(
      '<img src=x onerror="window.__xss=1">',
    );
    expect(
      await page
        .locator('[data-testid="task-view"] img, [data-testid="task-list"] img, [data-testid="task-view"] script')
        .count(),
    ).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('new-task form, then a permission request with its whole input: Allow lets the task go on', async () => {
    const tag = `ALLOWED_${uniq()}`;
    await page.fill('[data-testid="new-prompt"]', asking(tag));
    await page.fill('[data-testid="new-cwd"]', repo);
    await page.click('[data-testid="new-start"]');
    await page.locator('[data-testid="permission"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-testid="permission-tool"]').textContent()).toBe('Bash');
    expect(JSON.parse((await page.locator('[data-testid="permission-input"]').textContent())!)).toMatchObject({
      command: `curl -s http://127.0.0.1:9/; echo ${tag}`,
    });
    await page.screenshot({ path: join(DOCS, 'board-permission.png') });
    await page.click('[data-testid="allow"]');
    await expect.poll(() => taskState().textContent(), { timeout: 60_000 }).toBe('succeeded');
    expect(await page.locator('[data-testid="result"]').textContent()).toContain(tag);
    expect(await page.locator('[data-testid="events"]').textContent()).toMatch(/#\d+ /);
  });

  it('Deny with a message: claude gets the message in its tool_result', async () => {
    const reason = `NOT_TODAY_${uniq()}`;
    const id = await deep({ prompt: asking('x') });
    await until(id, (v) => v.state === 'needs_input' || v.final);
    await page.click(`tr[data-task="${id}"]`);
    await page.locator('[data-testid="permission"]').waitFor({ timeout: 10_000 });
    await page.fill('[data-testid="deny-message"]', reason);
    await page.click('[data-testid="deny"]');
    await expect.poll(() => taskState().textContent(), { timeout: 60_000 }).toBe('succeeded');
    expect(
      api.requests.some(
        (r) => JSON.stringify(r.messages).includes('tool_result') && JSON.stringify(r.messages).includes(reason),
      ),
    ).toBe(true);
  });

  it('a second permission request has an empty deny message; a command holding U+202E shows it escaped', async () => {
    const id = await deep({ prompt: `${asking('one')}[[bash:curl -s http://127.0.0.1:9/; echo \u202eowt]]` });
    await until(id, (v) => v.state === 'needs_input' || v.final);
    await page.click(`tr[data-task="${id}"]`);
    await page.locator('[data-testid="permission"]').waitFor({ timeout: 10_000 });
    const input = () => page.evaluate(() => document.querySelector('[data-testid="permission-input"]')?.textContent);
    expect(await input()).toContain('echo one');
    await page.fill('[data-testid="deny-message"]', 'NOT_FOR_THE_NEXT_ONE');
    await page.click('[data-testid="deny"]');
    await expect.poll(input, { timeout: 60_000 }).toContain('owt');
    expect(await page.inputValue('[data-testid="deny-message"]')).toBe('');
    const shown = (await page.locator('[data-testid="permission-input"]').textContent())!;
    expect(shown).toContain('echo \\u{202e}owt');
    expect(shown).not.toContain('\u202e');
    await page.click('[data-testid="deny"]');
    expect((await until(id, (v) => v.final)).state).toBe('succeeded');
  });

  it('Kill stops a running task', async () => {
    const id = await deep({ prompt: `[[bash:echo started; sleep ${uniqueSleep()}]]` });
    const live = await until(id, (v) => v.state === 'running' || v.final);
    expect(live.final ? `ended before the kill: ${live.state} (${live.end?.message})` : 'live').toBe('live');
    await page.click(`tr[data-task="${id}"]`);
    // Its panel (fetched on the click; slow on a busy machine), with the panel's text if it never comes.
    const panel = page.locator(`[data-testid="task-view"][data-task="${id}"]`);
    await panel.waitFor({ timeout: 60_000 }).catch(async (err: Error) => {
      const shown = await page.locator('[data-testid="task-view"], .task, .error').allTextContents();
      throw new Error(`${err.message.split('\n')[0]}; the task panel shows: ${JSON.stringify(shown).slice(0, 500)}`);
    });
    await panel.locator('[data-testid="kill"]').click();
    await expect.poll(() => taskState().textContent(), { timeout: 30_000 }).toBe('killed');
    expect((await until(id, (v) => v.final)).state).toBe('killed');
  });

  it("a worktree task's diff shows per file, with added and removed lines", async () => {
    const id = await deep({
      prompt: "[[bash:printf 'one\\ntwo\\n' > new.txt; printf 'base line\\n' > README; echo wrote]]",
      isolation: 'worktree',
    });
    expect((await until(id, (v) => v.final)).state).toBe('succeeded');
    await page.click(`tr[data-task="${id}"]`);
    const files = page.locator('[data-testid="diff-file"] summary');
    await expect.poll(() => files.allTextContents(), { timeout: 10_000 }).toEqual(['README +0 -1', 'new.txt +2 -0']);
    expect(await page.locator('[data-testid="diff"] .patch .add').allTextContents()).toEqual(
      expect.arrayContaining(['+one', '+two']),
    );
    await page.screenshot({ path: join(DOCS, 'board-diff.png'), fullPage: true });
  });

  it("another token's tasks are invisible, in the list and by id", async () => {
    const bobs = await deep({ prompt: '[[text:bob only]]' }, bob);
    const mine = await deep({ prompt: '[[text:main only]]' });
    await stateOf(mine).waitFor({ timeout: 10_000 });
    await until(bobs, (v) => v.final, bob);
    expect(await page.locator(`tr[data-task="${bobs}"]`).count()).toBe(0);
    const cookie = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const byId = await fetch(`${base}/board/api/tasks/${bobs}`, { headers: { cookie } });
    expect(byId.status).toBe(400);
    expect(((await byId.json()) as { error: string }).error).toMatch(/no task/);
    const other = await ctx.browser()!.newContext();
    try {
      const p = await other.newPage();
      await login(p, BOB);
      await p.locator(`tr[data-task="${bobs}"]`).waitFor({ timeout: 10_000 });
      expect(await p.locator(`tr[data-task="${mine}"]`).count()).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('an action from another origin, or without the CSRF token, is refused', async () => {
    const id = await deep({ prompt: `[[bash:echo csrf; sleep ${uniqueSleep()}]]` });
    const cookie = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const csrf = await page.evaluate(
      async () => ((await (await fetch('/board/api/me')).json()) as { csrf: string }).csrf,
    );
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/board/api/tasks/${id}/kill`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    expect((await post({ origin: 'http://evil.example', 'x-csrf-token': csrf })).status).toBe(403);
    expect((await post({ 'x-csrf-token': csrf })).status).toBe(403);
    expect((await post({ origin: base })).status).toBe(403);
    // From a page of another origin in the browser: the SameSite=Strict cookie is not even sent.
    const evil = await ctx.newPage();
    await evil.goto(base.replace('127.0.0.1', 'localhost') + '/');
    const status = await evil.evaluate(
      async (u) =>
        (
          await fetch(u, {
            method: 'POST',
            credentials: 'include',
            headers: { 'content-type': 'text/plain' },
            body: '{}',
          }).catch(() => undefined)
        )?.status ?? 0,
      `${base}/board/api/tasks/${id}/kill`,
    );
    expect([0, 401, 403]).toContain(status);
    await evil.close();
    expect((await until(id, () => true)).state).not.toBe('killed');
    expect((await post({ origin: base, 'x-csrf-token': csrf })).status).toBe(200);
    expect((await until(id, (v) => v.final)).state).toBe('killed');
  });

  it('filters by state and text; a follow-up continues a finished task as a new task', async () => {
    await page.click('[data-testid="counts"] [data-state="killed"]');
    const states = await page.locator('[data-testid="row-state"]').allTextContents();
    expect(states.length).toBeGreaterThan(0);
    expect(new Set(states)).toEqual(new Set(['killed']));
    await page.click('[data-testid="counts"] button:first-child');
    const first = await deep({ prompt: `[[text:first answer ${uniq()}]]` });
    expect((await until(first, (v) => v.final)).state).toBe('succeeded');
    await page.fill('[data-testid="filter-text"]', first);
    await expect.poll(() => page.locator('tr[data-task]').count(), { timeout: 30_000 }).toBe(1);
    await page.click(`tr[data-task="${first}"]`);
    // (Typed into the task shown, not into the one shown before it.)
    await expect
      .poll(() => page.locator('[data-testid="task-view"]').getAttribute('data-task'), { timeout: 20_000 })
      .toBe(first);
    await page.fill('[data-testid="followup-prompt"]', '[[text:follow-up answer]]');
    await page.click('[data-testid="followup-send"]');
    await expect
      .poll(() => page.locator('[data-testid="task-view"]').getAttribute('data-task'), { timeout: 30_000 })
      .not.toBe(first);
    const next = (await page.locator('[data-testid="task-view"]').getAttribute('data-task'))!;
    const done = await until(next, (v) => v.final);
    // (The scripted API answers from the conversation's first message; the follow-up's prompt reached it in the resumed
    // one.)
    expect(done).toMatchObject({ state: 'succeeded', continue_of: first });
    expect(api.requests.some((r) => JSON.stringify(r.messages).includes('follow-up answer'))).toBe(true);
    await page.fill('[data-testid="filter-text"]', '');
  });

  it(
    'the live feed resumes after a drop: with Last-Event-ID it sends what changed meanwhile, not the whole ' +
      'list again',
    async () => {
      const cookie = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
      const firstEvent = async (headers: Record<string, string>) => {
        const ctl = new AbortController();
        const r = await fetch(`${base}/board/api/stream`, {
          headers: { cookie, accept: 'text/event-stream', ...headers },
          signal: ctl.signal,
        });
        const reader = r.body!.getReader();
        let text = '';
        while (!/\n\n(id: [^\n]+\nevent: \w+\ndata: [^\n]*\n\n)/.test(text))
          text += new TextDecoder().decode((await reader.read()).value);
        ctl.abort();
        const m = /id: ([^\n]+)\nevent: (\w+)\ndata: ([^\n]*)/.exec(text)!;
        return {
          id: m[1]!,
          event: m[2]!,
          data: JSON.parse(m[3]!) as { rows: Array<{ task_id: string; state: string }> },
        };
      };
      const first = await firstEvent({});
      expect(first.event).toBe('list');
      const id = await deep({ prompt: '[[text:while away]]' });
      expect((await until(id, (v) => v.final)).state).toBe('succeeded');
      const resumed = await firstEvent({ 'last-event-id': first.id });
      expect(resumed.event).toBe('rows');
      expect(resumed.data.rows.map((r) => r.task_id)).toEqual([id]);
      expect(resumed.data.rows[0]!.state).toBe('succeeded');
      // An id this server never gave (another process, a restart) gets the whole list.
      expect((await firstEvent({ 'last-event-id': '00000000:5' })).event).toBe('list');
    },
  );

  it('a tab whose only connection drops sees, once back, what changed while nobody watched (all of it)', async () => {
    // The tab reaches the server through a relay the test can cut, as a network drops a connection; it is the only
    // tab open (the main page waits on a blank page meanwhile).
    const port = Number(new URL(base).port);
    const links = new Set<Socket>();
    let down = false;
    const relay = createNetServer((inbound) => {
      if (down) return inbound.destroy();
      const out = connectTcp(port, '127.0.0.1');
      const end = () => [inbound, out].forEach((s) => (s.destroy(), links.delete(s)));
      for (const s of [inbound, out]) {
        s.on('error', end).on('close', end);
        links.add(s);
      }
      inbound.pipe(out).pipe(inbound);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    await page.goto('about:blank');
    const alone = await browser.newContext();
    try {
      const tab = await alone.newPage();
      const at = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
      await tab.goto(`${at}/`);
      await tab.fill('#token', MAIN);
      await tab.click('button[type="submit"]');
      await tab.waitForSelector('[data-testid="who"]');
      const row = (id: string) => tab.locator(`tr[data-task="${id}"] [data-testid="row-state"]`);
      const live = tab.locator('[data-testid="live"]');
      const id = await deep({ prompt: `[[bash:echo away; sleep ${uniqueSleep()}]]` });
      await expect.poll(() => row(id).textContent(), { timeout: 30_000 }).toBe('running');
      down = true;
      links.forEach((s) => s.destroy());
      await expect.poll(() => live.textContent(), { timeout: 10_000 }).toBe('reconnecting');
      await mcp.callTool({ name: 'kill_task', arguments: { task_id: id } });
      const fresh = await deep({ prompt: '[[text:made while away]]' });
      expect((await until(fresh, (v) => v.final)).state).toBe('succeeded');
      expect((await until(id, (v) => v.final)).state).toBe('killed');
      down = false;
      await expect.poll(() => live.textContent(), { timeout: 10_000 }).toBe('live');
      await expect.poll(() => row(id).textContent(), { timeout: 10_000 }).toBe('killed');
      await expect.poll(() => row(fresh).textContent(), { timeout: 10_000 }).toBe('succeeded');
    } finally {
      await alone.close();
      links.forEach((s) => s.destroy());
      await new Promise((r) => relay.close(r));
      await page.goto(`${base}/`);
      await page.waitForSelector('[data-testid="who"]');
    }
  });

  it(
    'the operator panel shows load, budgets and charts; nothing was loaded from another host; no console ' + 'errors',
    async () => {
      await page.reload();
      await page.locator('[data-testid="ops"]').waitFor({ timeout: 10_000 });
      // The main token is not an admin: it sees its own running and queued tasks and its fair share, not the server's.
      expect(await page.locator('[data-testid="ops"]').textContent()).toMatch(
        new RegExp(
          String.raw`your tasks: running \d+ · queued \d+ · spares ready \d+` +
            String.raw`your fair share: \d+ running slots · \d+ queue places`,
        ),
      );
      expect(await page.locator('[data-testid="ops"] .budgets').textContent()).toContain('token:default');
      expect(await page.locator('[data-testid="chart"] svg').count()).toBe(3);
      await page.screenshot({ path: join(DOCS, 'board-list.png'), fullPage: true });
      const origin = new URL(base).origin;
      expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'))).toEqual([]);
      expect(consoleErrors).toEqual([]);
    },
  );

  it('logout ends the session: the old cookie no longer reads the API', async () => {
    const cookie = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    await page.click('[data-testid="logout"]');
    await page.waitForSelector('#token');
    expect((await fetch(`${base}/board/api/me`, { headers: { cookie } })).status).toBe(401);
  });
});

describe('the board as an MCP App', () => {
  it(
    'tools link to ui://claude-tiers/board; the resource renders in a host (AppBridge) and its Kill button ' +
      'reaches the server',
    async () => {
      const tools = (await mcp.listTools()).tools;
      for (const name of ['list_tasks', 'task_status', 'deep_task'])
        expect(tools.find((t) => t.name === name)?._meta).toMatchObject({
          ui: { resourceUri: 'ui://claude-tiers/board' },
        });
      const read = await mcp.readResource({ uri: 'ui://claude-tiers/board' });
      const res = read.contents[0] as { mimeType: string; text: string };
      expect(res.mimeType).toBe('text/html;profile=mcp-app');
      const id = await deep({ prompt: `[[bash:echo app; sleep ${uniqueSleep()}]]` });
      await until(id, (v) => v.state === 'running' || v.final);

      const host = await browser.newPage();
      host.on('console', (m) => m.type() === 'error' && consoleErrors.push(`app: ${m.text()}`));
      await host.setContent(
        '<!doctype html><body style="margin:0"><iframe id="app" sandbox="allow-scripts" ' +
          'style="width:1200px;height:800px;border:0"></iframe></body>',
      );
      // The host side is ext-apps' own AppBridge over our MCP client; messages cross into the iframe by postMessage.
      const bridge = new AppBridge(
        mcp,
        { name: 'board-test-host', version: '1' },
        { serverTools: {}, serverResources: {}, openLinks: {}, logging: {} },
      );
      const transport = {
        onmessage: undefined as ((m: unknown) => void) | undefined,
        onclose: undefined as (() => void) | undefined,
        onerror: undefined as ((e: Error) => void) | undefined,
        start: async () => {},
        close: async () => transport.onclose?.(),
        send: async (m: unknown) =>
          void (await host.evaluate(
            (msg) => (document.getElementById('app') as HTMLIFrameElement).contentWindow!.postMessage(msg, '*'),
            m as object,
          )),
      };
      await host.exposeFunction('__toHost', (m: unknown) => transport.onmessage?.(m));
      await host.evaluate(() => {
        const frame = document.getElementById('app') as HTMLIFrameElement;
        window.addEventListener(
          'message',
          (e) =>
            e.source === frame.contentWindow && (window as unknown as { __toHost(m: unknown): void }).__toHost(e.data),
        );
      });
      await bridge.connect(transport as never);
      await host.evaluate((html) => ((document.getElementById('app') as HTMLIFrameElement).srcdoc = html), res.text);
      const app = host.frameLocator('#app');
      await app.locator(`tr[data-task="${id}"]`).waitFor({ timeout: 20_000 });
      await app.locator(`tr[data-task="${id}"]`).click();
      await app.locator('[data-testid="kill"]').waitFor({ timeout: 10_000 });
      await host.screenshot({ path: join(DOCS, 'board-app.png') });
      await app.locator('[data-testid="kill"]').click();
      expect((await until(id, (v) => v.final)).state).toBe('killed');
      await expect
        .poll(() => app.locator('[data-testid="task-state"]').textContent(), { timeout: 10_000 })
        .toBe('killed');
      await bridge.close();
      await host.close();
      expect(consoleErrors).toEqual([]);
    },
  );
});

describe('the board of a stdio server (--board-port)', () => {
  it('listens on loopback only, takes its printed token, and shows the local tasks', async () => {
    const stdio = await startServer(api, { args: ['serve', '--board-port', '0'], cwd: repo });
    try {
      const line = await waitForValue(
        () => /board at (http:\/\/127\.0\.0\.1:\d+)\/ · login token: (\S+)/.exec(stdio.stderr()),
        20_000,
      );
      const [, at, token] = line;
      const id = viewOf(
        await stdio.client.callTool({ name: 'deep_task', arguments: { prompt: '[[text:from stdio]]', wait_s: 10 } }),
      ).task_id;
      const login = await fetch(`${at}/board/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: at!, 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${encodeURIComponent(token!)}`,
      });
      expect(login.status).toBe(303);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const list = (await (await fetch(`${at}/board/api/tasks`, { headers: { cookie } })).json()) as {
        rows: Array<{ task_id: string }>;
      };
      expect(list.rows.map((r) => r.task_id)).toContain(id);
      const { request } = await import('node:http');
      const u = new URL(at!);
      const status = await new Promise<number>((resolve) =>
        request({ host: u.hostname, port: u.port, path: '/', headers: { host: 'evil.example.com' } }, (res) =>
          resolve(res.statusCode ?? 0),
        ).end(),
      );
      expect(status).toBe(403);
    } finally {
      await stdio.close();
    }
  });
});

describe('the built board', () => {
  it('the web page script and the MCP App file are each under 100 KB gzipped', () => {
    const gz = (f: string) => gzipSync(readFileSync(join(ROOT, 'dist', 'web', f))).length;
    const sizes = { 'board.js': gz('board.js'), 'board-app.html': gz('board-app.html') };
    console.log(`board bundles gzipped: ${JSON.stringify(sizes)}`);
    expect(sizes['board.js']).toBeLessThan(100_000);
    expect(sizes['board-app.html']).toBeLessThan(100_000);
  });
});

describe('merge back and one-tap links, in the browser', () => {
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
  const notice = () => page.locator('[data-testid="notice"]').textContent();

  it('shows which branches conflict, merges one cleanly, refuses the conflicting one and a dirty tree', async () => {
    const errorsBefore = consoleErrors.length;
    const file = `merge-${uniq()}.txt`;
    const a = await deep({ prompt: `[[bash:echo A > ${file}]]`, isolation: 'worktree' });
    const b = await deep({ prompt: `[[bash:echo B > ${file}]]`, isolation: 'worktree' });
    const c = await deep({ prompt: `[[bash:echo C > other-${file}]]`, isolation: 'worktree' });
    for (const id of [a, b, c]) expect((await until(id, (v) => v.final)).state).toBe('succeeded');
    await page.goto(`${base}/`);
    if (await page.locator('#token').count()) await login(page, MAIN);
    await page.click(`tr[data-task="${a}"]`);
    await expect.poll(() => page.locator('[data-testid="task-view"] h2').textContent(), { timeout: 20_000 }).toBe(a);
    await expect.poll(() => page.locator('[data-testid="conflicts"]').textContent(), { timeout: 20_000 }).toContain(b);
    expect(await page.locator('[data-testid="conflicts"]').textContent()).not.toContain(c);
    await page.click('[data-testid="merge"]');
    await expect.poll(notice, { timeout: 20_000 }).toMatch(new RegExp(`merged task ${a} .* into main`));
    expect(git('show', `main:${file}`)).toBe('A');
    const head = git('rev-parse', 'main');
    const open = async (id: string) => {
      await page.click(`tr[data-task="${id}"]`);
      await expect.poll(() => page.locator('[data-testid="task-view"] h2').textContent(), { timeout: 20_000 }).toBe(id);
    };
    await open(b);
    await page.click('[data-testid="squash"]');
    await expect
      .poll(notice, { timeout: 20_000 })
      .toMatch(new RegExp(`conflicts with main in ${file.replace('.', '\\.')}; nothing was changed`));
    expect(git('rev-parse', 'main')).toBe(head);
    writeFileSync(join(repo, 'README'), 'uncommitted work\n');
    try {
      await open(c);
      await page.click('[data-testid="merge"]');
      await expect.poll(notice, { timeout: 20_000 }).toMatch(/uncommitted changes the merge would touch: README/);
      expect(git('rev-parse', 'main')).toBe(head);
      expect(readFileSync(join(repo, 'README'), 'utf8')).toBe('uncommitted work\n');
    } finally {
      git('checkout', '--', 'README');
    }
    await page.screenshot({ path: join(DOCS, 'board-merge.png') });
    // The two refused merges answer 400, which the browser logs; nothing else went wrong.
    expect(consoleErrors.slice(errorsBefore)).toEqual(
      Array(2).fill('Failed to load resource: the server responded with a status of 400 (Bad Request)'),
    );
  });

  it('a one-tap link from a notification shows the whole request, allows it once, and is refused after', async () => {
    const tag = `TAP_${uniq()}`;
    const id = await deep({ prompt: asking(tag) });
    const note = await waitForValue(() => notes.find((n) => n.task_id === id && n.links), 60_000, 50);
    const tap = await browser.newPage();
    try {
      await tap.goto(note.links!.allow);
      expect(await tap.locator('pre').textContent()).toContain(tag);
      expect((await until(id, (v) => v.state === 'needs_input' || v.final)).state).toBe('needs_input');
      await tap.click('button[type="submit"]');
      await expect
        .poll(() => tap.locator('body').textContent(), { timeout: 20_000 })
        .toMatch(/allowed; the task goes on/);
      expect((await until(id, (v) => v.final)).result?.text).toContain(tag);
      const again = await tap.goto(note.links!.allow);
      expect(again?.status()).toBe(410);
      expect(await tap.locator('form').count()).toBe(0);
    } finally {
      await tap.close();
    }
  });
});
