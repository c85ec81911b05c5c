import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, serverEnv, startServer, textOf, type StartedServer } from './support/harness.js';
import { startScriptedApi, type ScriptedApi } from './support/scripted-api.js';

// Issue 21, item 2: the real claude with no API key and an empty HOME says "Not logged in · Please run /login";
// every path says what to do instead (the key in the server's environment, or a login under the HOME it runs with).
let api: ScriptedApi;
let server: StartedServer;
let env: Record<string, string>;
const withoutKey = (e: Record<string, string>) =>
  Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'ANTHROPIC_API_KEY'));

beforeAll(async () => {
  api = await startScriptedApi();
  env = withoutKey((await serverEnv(api)).env);
  server = await startServer(api, { env: { ANTHROPIC_API_KEY: '' } });
});
afterAll(async () => {
  await server?.close();
  await api?.close();
});

// The fix, naming the HOME claude looked in.
const fix = (home: string) =>
  new RegExp(
    `Not logged in · Please run /login \\(claude is not logged in; check ANTHROPIC_API_KEY in the server's ` +
      `environment \\(it is not set\\) or the claude login under HOME=${home}: .*MCP clients such as the ` +
      `Inspector pass no shell variables.*claude-tiers doctor`,
  );

describe('no credentials', () => {
  it('ask: one line on stderr with the fix and the HOME, exit 1', async () => {
    const r = await runCli(['ask', 'hello'], { env, timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(fix(env.HOME!));
    expect(api.messageRequests().length).toBe(0);
  });

  it('run: the failed task says the same', async () => {
    const r = await runCli(['run', 'hello'], { env, timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/claude-tiers: task t_\S+ failed: Not logged in/);
    expect(r.stderr).toMatch(fix(env.HOME!));
  });

  it('quick_answer and deep_task over MCP: the error text says the same', async () => {
    const quick = await server.client.callTool({ name: 'quick_answer', arguments: { prompt: 'hello' } });
    expect(quick.isError).toBe(true);
    expect(textOf(quick)).toMatch(fix(server.home));
    const deep = await server.client.callTool({ name: 'deep_task', arguments: { prompt: 'hello', wait_s: 60 } });
    const view = deep.structuredContent as { state: string; end: { message: string } };
    expect(view.state).toBe('failed');
    expect(view.end.message).toMatch(fix(server.home));
  }, 120_000);
});
