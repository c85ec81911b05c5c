import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import type { Config } from '../../src/config/schema.js';
import { createEngine } from '../../src/create-engine.js';
import type { Engine } from '../../src/engine.js';
import { createLogger } from '../../src/log.js';
import { REAL_CLAUDE, sleep, waitFor } from '../support/harness.js';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';

// Every way a probe call can end must release the breaker's probe slot: after the cooldown the next call gets through.
// The engine runs in this process (like bench/registry.ts) and drives the real claude against the scripted API.
const COOLDOWN_MS = 300;
let api: ScriptedApi;
let home: string;
let engine: Engine | undefined;

beforeAll(async () => {
  api = await startScriptedApi();
  home = await makeTempHome();
});
afterEach(async () => {
  await engine?.dispose('test done');
  engine = undefined;
});
afterAll(async () => {
  await api?.close();
});

async function start(limits: Partial<Config['limits']> = {}, bin = REAL_CLAUDE): Promise<Engine> {
  const config = defaultConfig(process.env, home);
  config.stateDir = mkdtempSync(join(tmpdir(), 'ct-breaker-'));
  config.claudeBin = bin;
  config.logLevel = 'silent';
  Object.assign(
    config.limits,
    { breakerThreshold: 1, breakerCooldownS: COOLDOWN_MS / 1000, killGraceMs: 500, interruptWaitMs: 500 },
    limits,
  );
  // A binary of the test's own has no warm spare: a spare started from the file before it was replaced would serve the
  // probe.
  const spares = bin === REAL_CLAUDE ? {} : { warmSpares: 0, minSpares: 0, maxSpares: 0 };
  Object.assign(config.tiers.comprehensive!, { mcpConfig: null, maxRetries: 0, ...spares });
  Object.assign(config.tiers.speed!, { warmSpares: 0, maxRetries: 0 });
  engine = await createEngine(config, createLogger('silent'), claudeEnv(api, home));
  return engine;
}

const deep = (e: Engine, prompt: string, extra: Record<string, unknown> = {}) =>
  e.registry.start({ prompt, ...extra }, { waitS: 0 });
const idOf = (r: { structured: Record<string, unknown> }) => r.structured.task_id as string;
async function final(e: Engine, id: string): Promise<string> {
  const until = Date.now() + 30_000;
  for (;;) {
    const v = (await e.registry.status(id, { waitS: 5 })).structured as { final: boolean; state: string };
    if (v.final) return v.state;
    if (Date.now() > until) throw new Error(`task ${id} still ${v.state}`);
  }
}

// Opens comprehensive:opus (threshold 1) with a 401, waits out the cooldown: the next call is the probe.
async function openDeep(e: Engine): Promise<void> {
  expect(await final(e, idOf(await deep(e, '[[error:401]]')))).toBe('failed');
  expect((await e.stats()).circuits['comprehensive:opus']?.state).toBe('open');
  await expect(deep(e, 'refused while open')).rejects.toThrow(/circuit open/);
  await sleep(COOLDOWN_MS + 50);
}

// After the probe path: past the cooldown, a good call gets through and closes the circuit.
async function nextDeepGetsThrough(e: Engine): Promise<void> {
  await sleep(COOLDOWN_MS + 50);
  expect(await final(e, idOf(await deep(e, '[[text:fine]]')))).toBe('succeeded');
  expect((await e.stats()).circuits['comprehensive:opus']?.state).toBe('closed');
}

describe('circuit breaker: every probe path releases the probe', () => {
  it('probe killed', async () => {
    const e = await start();
    await openDeep(e);
    const id = idOf(await deep(e, '[[bash:echo x; sleep 30]]'));
    await waitFor(() => (e.registry.peek(id)?.stats.toolCalls ?? 0) > 0, 20_000);
    await e.registry.kill(id, 'test');
    expect(await final(e, id)).toBe('killed');
    await nextDeepGetsThrough(e);
  });

  it('probe timed out', async () => {
    const e = await start();
    await openDeep(e);
    expect(await final(e, idOf(await deep(e, '[[hang]]', { timeoutS: 1.5 })))).toBe('timed_out');
    await nextDeepGetsThrough(e);
  });

  it('probe crashed (claude killed from outside)', async () => {
    const e = await start();
    await openDeep(e);
    const id = idOf(await deep(e, '[[bash:echo x; sleep 30]]'));
    const pid = await waitFor(
      () => ((e.registry.peek(id)?.stats.toolCalls ?? 0) > 0 ? e.registry.peek(id)?.process?.pid : undefined),
      20_000,
    );
    process.kill(pid!, 'SIGKILL');
    expect(await final(e, id)).toBe('failed');
    expect(e.registry.peek(id)?.end?.reason).toBe('crashed');
    await nextDeepGetsThrough(e);
  });

  it('probe failed to start (the binary cannot be executed)', async () => {
    // The server finds its binary once, at start: what a probe can meet is that file replaced by one that cannot run
    // (a broken upgrade). Moved internals: the test used to change the config's claudeBin on the running engine.
    // A program running the real claude, not a link to it: a link is resolved once, at start, and its real path runs.
    const bin = join(mkdtempSync(join(tmpdir(), 'ct-badbin-')), 'claude');
    const install = () => {
      writeFileSync(bin, `#!/bin/sh\nexec "${REAL_CLAUDE}" "$@"\n`);
      chmodSync(bin, 0o755);
    };
    install();
    const e = await start({}, bin);
    await openDeep(e);
    rmSync(bin);
    writeFileSync(bin, '#!/nonexistent/interpreter\n');
    chmodSync(bin, 0o755);
    expect(await final(e, idOf(await deep(e, 'never runs')))).toBe('failed');
    rmSync(bin);
    install();
    await nextDeepGetsThrough(e);
  });

  it('queue full', async () => {
    const e = await start({ maxRunning: 1, maxQueue: 0 });
    await openDeep(e);
    const busy = idOf(await deep(e, '[[bash:echo x; sleep 30]]', { model: 'sonnet' }));
    await expect(deep(e, 'no room')).rejects.toThrow(/queue full/);
    await e.registry.kill(busy, 'test');
    await nextDeepGetsThrough(e);
  });

  it('planRun throws (a context file vanished)', async () => {
    const e = await start();
    await openDeep(e);
    e.config.tiers.comprehensive!.contextFiles = ['/nonexistent/context.md'];
    const id = idOf(await deep(e, 'cannot plan'));
    expect(await final(e, id)).toBe('failed');
    expect(e.registry.peek(id)?.end?.message).toMatch(/context file/);
    e.config.tiers.comprehensive!.contextFiles = [];
    await nextDeepGetsThrough(e);
  });

  it('queued task killed', async () => {
    const e = await start({ maxRunning: 1, maxQueue: 5 });
    await openDeep(e);
    const busy = idOf(await deep(e, '[[bash:echo x; sleep 30]]', { model: 'sonnet' }));
    const queued = idOf(await deep(e, 'waits in the queue'));
    expect(e.registry.peek(queued)?.state).toBe('queued');
    await e.registry.kill(queued, 'test');
    expect(await final(e, queued)).toBe('killed');
    await e.registry.kill(busy, 'test');
    await nextDeepGetsThrough(e);
  });

  it('non-upstream error (turn limit)', async () => {
    const e = await start();
    await openDeep(e);
    const id = idOf(await deep(e, '[[bash:echo a]][[bash:echo b]]', { maxTurns: 1 }));
    expect(await final(e, id)).toBe('failed');
    expect(e.registry.peek(id)?.end?.reason).toBe('max_turns');
    await nextDeepGetsThrough(e);
  });

  it('quick answer: planRun throws after admission, and a cancelled probe', async () => {
    const e = await start();
    const signal = new AbortController().signal;
    await expect(e.quick({ prompt: '[[error:401]]' }, signal)).rejects.toThrow(/401/);
    await sleep(COOLDOWN_MS + 50);
    Object.assign(e.config.tiers.speed!, { contextMode: 'modular', contextFiles: ['/nonexistent/context.md'] });
    await expect(e.quick({ prompt: 'cannot plan' }, signal)).rejects.toThrow(/context file/);
    Object.assign(e.config.tiers.speed!, { contextMode: 'minimal', contextFiles: [] });
    await sleep(COOLDOWN_MS + 50);
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(), 300);
    await expect(e.quick({ prompt: '[[hang]]' }, cancel.signal)).rejects.toThrow(/cancelled/);
    await sleep(COOLDOWN_MS + 50);
    expect((await e.quick({ prompt: '[[text:fine]]' }, signal)).answer).toBe('fine');
    expect((await e.stats()).circuits['speed:haiku']?.state).toBe('closed');
  });
});
