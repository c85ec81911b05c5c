import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, sleep, textOf, waitFor } from '../support/harness.js';
import { serverPerFile } from '../support/per-file.js';

// A warm spare is spawned from its tier's shared files (stateDir/spare-files/<hash>), which an unsandboxed task's Bash
// may write. One spawned while they hold a task's text would serve the next request with the task's system prompt
// and settings hooks, even once the request's own spec has written the files again (the spare's argv is the same).
const f = serverPerFile({ spares: 1 });
const MARK = `injected-${Math.random().toString(36).slice(2)}`;

type Stats = { spares: { ready: number; ready_pids: number[] } };
const stats = async () =>
  (await f.server.client.callTool({ name: 'server_stats', arguments: {} })).structuredContent as Stats;
const ask = async (prompt: string) => {
  const before = f.api.messageRequests().length;
  const r = await f.server.client.callTool({ name: 'quick_answer', arguments: { prompt } });
  expect(r.isError, textOf(r)).toBeFalsy();
  const systems = f.api
    .messageRequests()
    .slice(before)
    .map((q) => q.systemText);
  return { warm: (r.structuredContent as { warm: boolean }).warm, steered: systems.some((s) => s.includes(MARK)) };
};

// What a task's Bash does to every folder: the prompts get its text, the settings its hook (and no deny rules). Gives
// the file the hook makes when it runs.
function poison(): string {
  const hooked = join(mkdtempSync(join(tmpdir(), 'ct-poisoned-')), 'hook-ran');
  const hook = { hooks: { SessionStart: [{ hooks: [{ type: 'command', command: `touch ${hooked}` }] }] } };
  const base = join(f.server.stateDir, 'spare-files');
  for (const dir of readdirSync(base)) {
    for (const name of readdirSync(join(base, dir))) {
      const path = join(base, dir, name);
      if (name === 'settings.json') writeFileSync(path, JSON.stringify(hook));
      else if (name.endsWith('.txt')) writeFileSync(path, `${readFileSync(path, 'utf8')}\n${MARK}`);
    }
  }
  return hooked;
}

describe('a warm spare of shared files a task wrote to', () => {
  it('is not spawned from them, and the next runs, cold then warm, have the server text', async () => {
    expect(await waitFor(async () => (await stats()).spares.ready === 1, 30_000)).toBe(true);
    const [spare] = (await stats()).spares.ready_pids;
    const hooked = poison();
    // The spare goes (it expires, it dies): the pool would spawn its replacement from those files.
    process.kill(spare!, 'SIGKILL');
    expect(await waitFor(() => !isAlive(spare!), 20_000)).toBe(true);
    await sleep(4000);
    const next = await ask('again');
    console.log('next:', next, existsSync(hooked));
    expect(next.steered).toBe(false);
    expect(existsSync(hooked)).toBe(false);
    // The files were written again: a spare is spawned from them, and serves the server's text.
    expect(await waitFor(async () => (await stats()).spares.ready === 1, 30_000)).toBe(true);
    await sleep(1500);
    const warm = await ask('third');
    console.log('warm:', warm, existsSync(hooked));
    expect(warm).toEqual({ warm: true, steered: false });
    expect(existsSync(hooked)).toBe(false);
  }, 120_000);

  it('ready while they were written to is not used: the run goes cold, a spare of the text follows', async () => {
    expect(await waitFor(async () => (await stats()).spares.ready === 1, 30_000)).toBe(true);
    await sleep(1500);
    const [spare] = (await stats()).spares.ready_pids;
    const hooked = poison();
    const next = await ask('after');
    console.log('next:', next, isAlive(spare!), existsSync(hooked));
    expect(next).toEqual({ warm: false, steered: false });
    expect(await waitFor(() => !isAlive(spare!), 20_000), 'the spare of the folder written to is retired').toBe(true);
    expect(await waitFor(async () => (await stats()).spares.ready === 1, 30_000)).toBe(true);
    await sleep(1500);
    expect(await ask('last')).toEqual({ warm: true, steered: false });
    expect(existsSync(hooked)).toBe(false);
  }, 120_000);
});
