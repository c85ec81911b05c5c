import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SERVER_ENTRY, serverEnv } from '../support/harness.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { ranOn, startNode, type Node } from './cluster-support.js';

const run = promisify(execFile);
let api: ScriptedApi;
let redis: TestRedis;
let worker: Node;

beforeAll(async () => {
  [api, redis] = await Promise.all([startScriptedApi(), startRedis()]);
  worker = await startNode('worker', api, redis.url);
});
afterAll(async () => {
  await worker?.close();
  await redis?.close();
  await api?.close();
});

// The CLI is one more client of the task service: with --redis its commands go through the shared queue and store.
describe('the CLI with --redis', () => {
  it(
    'run puts the task in the shared queue, a server of the cluster runs it, and the CLI prints its result; ' +
      'tasks and kill see the cluster',
    async () => {
      const stateDir = mkdtempSync(join(tmpdir(), 'ct-cli-redis-'));
      const { env } = await serverEnv(api, { stateDir, env: { CLAUDE_TIERS_LOG_LEVEL: 'warn' } });
      const cli = (args: string[]) =>
        run(process.execPath, [SERVER_ENTRY, ...args, '--redis', redis.url], { env, cwd: ROOT, timeout: 90_000 });
      const r = await cli(['run', 'through the queue [[bash:echo from-queue]]']);
      expect(r.stdout).toBe('done: from-queue\n');
      const id = /(t_\S+) · /.exec(r.stderr)?.[1];
      expect(id, r.stderr).toBeDefined();
      // The worker ran it (its state dir holds the task's log), not the CLI's own process.
      expect(ranOn([worker], id!)?.name).toBe('worker');
      expect(readdirSync(join(stateDir, 'tasks'))).not.toContain(id);
      // The listing is the cluster's: the task is there although this state dir never saw it.
      const list = JSON.parse((await cli(['tasks', '--json'])).stdout) as Array<{ id: string; state: string }>;
      expect(list.find((t) => t.id === id)?.state).toBe('succeeded');
      const k = await cli(['kill', id!]);
      expect(k.stdout).toBe(`${id} already succeeded\n`);
    },
  );
});
