import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import {
  claudeChildren,
  isAlive,
  ROOT,
  sleep,
  startServer,
  textOf,
  waitFor,
  type StartedServer,
} from './support/harness.js';

let api: ScriptedApi;
let s: StartedServer;
type Answer = { answer: string; session_id: string; warm: boolean; cached?: { age_s: number } };
const answer = (r: unknown) => (r as { structuredContent: Answer }).structuredContent;
type Stats = {
  spares: { hits: number; misses: number; spawned: number; ready: number; ready_pids: number[] };
  cache: { hits: number; entries: number };
};
const stats = async () => (await s.client.callTool({ name: 'server_stats', arguments: {} })).structuredContent as Stats;

beforeAll(async () => {
  api = await startScriptedApi();
  s = await startServer(api, { spares: 1 });
});
afterAll(async () => {
  await s?.close();
  await api?.close();
});

describe('warm spares', () => {
  it('a spare answers once, is retired, and a fresh one replaces it; callers never share a session', async () => {
    expect(await waitFor(async () => (await stats()).spares.ready === 1, 30_000)).toBe(true);
    const [firstSpare] = (await stats()).spares.ready_pids;
    expect(firstSpare).toBeDefined();
    await sleep(1500); // let it finish its start-up
    const a = answer(
      await s.client.callTool({ name: 'quick_answer', arguments: { prompt: 'first caller [[text:one]]' } }),
    );
    expect(a.answer).toBe('one');
    expect(a.warm).toBe(true);
    expect(await waitFor(() => !isAlive(firstSpare!), 20_000), 'a used spare exits').toBe(true);
    expect(await waitFor(async () => (await stats()).spares.ready === 1, 30_000), 'a replacement is spawned').toBe(
      true,
    );
    const replacement = (await stats()).spares.ready_pids;
    expect(replacement).toHaveLength(1);
    expect(replacement[0]).not.toBe(firstSpare);
    expect(claudeChildren(s.pid)).toContain(replacement[0]);
    await sleep(1500);
    const b = answer(
      await s.client.callTool({ name: 'quick_answer', arguments: { prompt: 'second caller [[text:two]]' } }),
    );
    expect(b.warm).toBe(true);
    expect(b.session_id).not.toBe(a.session_id);
    const seen = api.messageRequests((r) => r.firstUserText.includes('second caller'));
    expect(JSON.stringify(seen[0]!.messages)).not.toContain('first caller');
    const st = await stats();
    expect(st.spares.hits).toBe(2);
    expect(st.spares.spawned).toBeGreaterThanOrEqual(3);
  });

  it('a request for another cwd or model goes cold and leaves the spare alone', async () => {
    expect(await waitFor(async () => (await stats()).spares.ready === 1, 30_000)).toBe(true);
    const [spare] = (await stats()).spares.ready_pids;
    const dir = join(ROOT, 'test', 'tmp-spare-cwd');
    mkdirSync(dir, { recursive: true });
    const before = await stats();
    // The cwd has to be inside the server's root (the package); it goes again right after the call.
    const other = answer(
      await s.client
        .callTool({ name: 'quick_answer', arguments: { prompt: '[[text:cold cwd]]', cwd: dir } })
        .finally(() => rmSync(dir, { recursive: true, force: true })),
    );
    expect(other.warm).toBe(false);
    const otherModel = answer(
      await s.client.callTool({ name: 'quick_answer', arguments: { prompt: '[[text:cold model]]', model: 'sonnet' } }),
    );
    expect(otherModel.warm).toBe(false);
    const after = await stats();
    expect(after.spares.misses - before.spares.misses).toBe(2);
    expect(after.spares.hits).toBe(before.spares.hits);
    expect(isAlive(spare!)).toBe(true);
  });

  it('shutdown leaves no spare behind', async () => {
    const t = await startServer(api, { spares: 1 });
    const ready = await waitFor(() => claudeChildren(t.pid).length === 1, 30_000);
    expect(ready).toBe(true);
    const [spare] = claudeChildren(t.pid);
    await t.close();
    expect(await waitFor(() => !isAlive(t.pid), 20_000)).toBe(true);
    expect(await waitFor(() => !isAlive(spare!), 20_000)).toBe(true);
  });
});

describe('answer cache', () => {
  it('returns a cached answer only for an identical key, says how old it is, and expires', async () => {
    const prompt = `cache me ${Date.now()} [[text:fresh]]`;
    const first = answer(await s.client.callTool({ name: 'quick_answer', arguments: { prompt, cache: true } }));
    expect(first.cached).toBeUndefined();
    const again = await s.client.callTool({ name: 'quick_answer', arguments: { prompt, cache: true } });
    expect(answer(again).cached?.age_s).toBeGreaterThanOrEqual(0);
    expect(answer(again).answer).toBe('fresh');
    expect(textOf(again)).toMatch(/cached answer, [\d.]+ s old/);
    const requests = api.messageRequests((r) => r.firstUserText.includes(prompt.slice(0, 20)));
    expect(requests).toHaveLength(1);
    const otherPrompt = answer(
      await s.client.callTool({ name: 'quick_answer', arguments: { prompt: `${prompt} `, cache: true } }),
    );
    expect(otherPrompt.cached).toBeUndefined();
    const otherSystem = answer(
      await s.client.callTool({ name: 'quick_answer', arguments: { prompt, cache: true, system_prompt: 'be terse' } }),
    );
    expect(otherSystem.cached).toBeUndefined();
    const noCache = answer(await s.client.callTool({ name: 'quick_answer', arguments: { prompt } }));
    expect(noCache.cached).toBeUndefined();
  });
});
