import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import {
  claudeChildren,
  isAlive,
  processesMatching,
  sleep,
  startServer,
  textOf,
  uniqueSleep,
  waitFor,
} from '../support/harness.js';
import type { TaskRecord } from '../../src/shapes/task-record.js';
import { viewOf, viewsOf } from '../support/views.js';

let api: ScriptedApi;
const uniq = () => `${process.pid}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

beforeAll(async () => {
  api = await startScriptedApi();
});
afterAll(async () => {
  await api?.close();
});

describe('registry limits', () => {
  it('runs 20 concurrent tasks at a limit of 4: all succeed, never more than 4 claude processes', async () => {
    const s = await startServer(api, { env: { CLAUDE_TIERS_MAX_RUNNING: '4' } });
    try {
      let peak = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          peak = Math.max(peak, claudeChildren(s.pid).length);
          await sleep(50);
        }
      })();
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await s.client.callTool({
          name: 'deep_task',
          arguments: { prompt: `task ${i} [[bash:sleep 0.5 && echo n${i}]]`, wait_s: 0 },
        });
        expect(r.isError, textOf(r)).toBeFalsy();
        ids.push(viewOf(r).task_id);
      }
      const listed = await s.client.callTool({ name: 'list_tasks', arguments: { state: ['queued', 'running'] } });
      expect(
        (listed.structuredContent as { summary: { running: number; queued: number } }).summary.running,
      ).toBeLessThanOrEqual(4);
      const all = await s.client.callTool(
        { name: 'task_status', arguments: { task_ids: ids, wait_for: 'all', wait_s: 60 } },
        { timeout: 120_000 },
      );
      let finished = viewsOf(all).finished;
      if (finished.length < 20) {
        const again = await s.client.callTool(
          { name: 'task_status', arguments: { task_ids: ids, wait_for: 'all', wait_s: 60 } },
          { timeout: 120_000 },
        );
        finished = viewsOf(again).finished;
      }
      sampling = false;
      await sampler;
      expect(finished.length).toBe(20);
      const states = await Promise.all(
        ids.map(
          async (id) => viewOf(await s.client.callTool({ name: 'task_status', arguments: { task_id: id } })).state,
        ),
      );
      expect(
        states.every((st) => st === 'succeeded'),
        states.join(','),
      ).toBe(true);
      expect(peak).toBeGreaterThan(1);
      expect(peak).toBeLessThanOrEqual(4);
      const summary = (await s.client.callTool({ name: 'list_tasks', arguments: {} })).structuredContent as {
        summary: { peak_running: number };
      };
      expect(summary.summary.peak_running).toBe(4);
    } finally {
      await s.close();
    }
  }, 240_000);

  it('refuses a task when the queue is full, with a clear message', async () => {
    const s = await startServer(api, { env: { CLAUDE_TIERS_MAX_RUNNING: '1', CLAUDE_TIERS_MAX_QUEUE: '1' } });
    try {
      const marker = uniqueSleep(60);
      const a = await s.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `[[bash:echo started; sleep ${marker}]]`, wait_s: 0 },
      });
      const b = await s.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `[[bash:echo started; sleep ${marker}]]`, wait_s: 0 },
      });
      expect(viewOf(a).state).toBe('running');
      expect(viewOf(b).state).toBe('queued');
      const c = await s.client.callTool({ name: 'deep_task', arguments: { prompt: 'one too many', wait_s: 0 } });
      expect(c.isError).toBe(true);
      expect(textOf(c)).toMatch(/queue full: 1 tasks running and 1 queued/);
      const kb = await s.client.callTool({ name: 'kill_task', arguments: { task_id: viewOf(b).task_id } });
      expect(viewOf(kb).state).toBe('killed');
      await s.client.callTool({ name: 'kill_task', arguments: { task_id: viewOf(a).task_id } });
      expect(processesMatching(marker)).toEqual([]);
    } finally {
      await s.close();
    }
  }, 180_000);
});

describe('results survive a restart', () => {
  it("serves a finished task's result from disk after a restart", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ct-restart-'));
    const s1 = await startServer(api, { stateDir });
    const r = await s1.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[text:persisted ${uniq()}]]`, wait_s: 30 },
    });
    const done = viewOf(r);
    expect(done.state).toBe('succeeded');
    await s1.close();
    const s2 = await startServer(api, { stateDir });
    try {
      const again = viewOf(await s2.client.callTool({ name: 'task_status', arguments: { task_id: done.task_id } }));
      expect(again.state).toBe('succeeded');
      expect(again.result?.text).toBe(done.result?.text);
      expect(again.events.length).toBeGreaterThan(0);
    } finally {
      await s2.close();
    }
  });

  it('marks a task lost when its server is SIGKILLed, kills its processes, keeps partial output', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ct-lost-'));
    const marker = uniqueSleep(300);
    const s1 = await startServer(api, { stateDir });
    const r = await s1.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:echo started; sleep ${marker}]]`, wait_s: 0 },
    });
    const id = viewOf(r).task_id;
    expect(await waitFor(() => processesMatching(marker).length > 0, 20_000)).toBe(true);
    // The record on disk lists the Bash step's sleep (the runner's process snapshot): only then is the kill's
    // cleanup testable. Waiting for it, not a fixed time, holds on a busy machine.
    const record = join(stateDir, 'tasks', id, 'record.json');
    const recorded = (): number[] =>
      existsSync(record)
        ? ((JSON.parse(readFileSync(record, 'utf8')) as TaskRecord).process?.procs.map((p) => p.pid) ?? [])
        : [];
    const snapshotted = () => processesMatching(marker).every((p) => recorded().includes(p.pid));
    expect(await waitFor(snapshotted, 60_000, 50)).toBe(true);
    process.kill(s1.pid, 'SIGKILL');
    expect(await waitFor(() => !isAlive(s1.pid), 20_000)).toBe(true);
    await s1.close().catch(() => {});
    const s2 = await startServer(api, { stateDir });
    try {
      const v = viewOf(await s2.client.callTool({ name: 'task_status', arguments: { task_id: id } }));
      expect(v.state).toBe('lost');
      expect(v.end?.message).toMatch(/stopped before the task finished/);
      expect(v.events.some((e) => /tool Bash: echo started; sleep 300\./.test(e))).toBe(true);
      expect(await waitFor(() => processesMatching(marker).length === 0, 20_000)).toBe(true);
    } finally {
      await s2.close();
    }
  }, 180_000);
});
