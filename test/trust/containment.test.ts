import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { processesMatching, sleep, startServer, textOf, uniqueSleep, waitFor } from '../support/harness.js';

// Nothing a task starts outlives it (issue 11, findings 1-3): double forks and setsid included, through kill_task,
// a SIGKILLed server, and a restart right after a Bash step started. Checked in /proc.
let api: ScriptedApi;
beforeAll(async () => {
  api = await startScriptedApi();
});
afterAll(async () => {
  await api?.close();
});

const escaping = (a: string, b: string) => `[[bash:echo x; (setsid sleep ${a} &); setsid -f sleep ${b}; sleep 30]]`;
const running = (...markers: string[]) => markers.flatMap((m) => processesMatching(`sleep ${m}`));

describe('containment', () => {
  it('kill_task takes double-forked and setsid processes down with the task', async () => {
    const s = await startServer(api);
    try {
      const [a, b] = [uniqueSleep(777), uniqueSleep(777)];
      const r = await s.client.callTool({ name: 'deep_task', arguments: { prompt: escaping(a, b), wait_s: 0 } });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(await waitFor(() => running(a).length > 0 && running(b).length > 0, 20_000)).toBe(true);
      const killed = await s.client.callTool({
        name: 'kill_task',
        arguments: { task_id: (r.structuredContent as { task_id: string }).task_id },
      });
      expect(await waitFor(() => running(a, b).length === 0, 20_000)).toBe(true);
      // Finding 12: the result says what happened in our words, not claude's internal answer to the interrupt.
      expect(textOf(killed)).toMatch(/stopped: killed by kill_task/);
      expect(textOf(killed)).not.toMatch(/ede_diagnostic|result_type=/);
      expect((killed.structuredContent as { result?: unknown }).result).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('a SIGKILLed server leaves nothing running, and its looping task makes no API request after 2 s', async () => {
    const s = await startServer(api);
    const [a, b] = [uniqueSleep(777), uniqueSleep(777)];
    const loop = `loop${Date.now()}`;
    await s.client.callTool({ name: 'deep_task', arguments: { prompt: escaping(a, b), wait_s: 0 } });
    await s.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `${loop} [[repeat-bash:echo ${loop}]]`, wait_s: 0 },
    });
    const calls = () => api.messageRequests((q) => q.firstUserText.includes(loop)).length;
    expect(await waitFor(() => running(a).length > 0 && running(b).length > 0 && calls() >= 2, 20_000)).toBe(true);
    process.kill(s.pid, 'SIGKILL');
    expect(await waitFor(() => running(a, b).length === 0, 20_000)).toBe(true);
    await sleep(2000);
    const after2s = calls();
    await sleep(3000);
    expect(calls()).toBe(after2s);
    await s.close().catch(() => {});
  });

  it('a restart right after a Bash step started leaves nothing running', async () => {
    const first = await startServer(api);
    const a = uniqueSleep(777);
    const r = await first.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:setsid -f sleep ${a}; sleep 30]]`, wait_s: 0 },
    });
    const id = (r.structuredContent as { task_id: string }).task_id;
    // The crash comes the moment the step's process exists: before any snapshot can have recorded it.
    expect(await waitFor(() => running(a).length > 0, 20_000, 10)).toBe(true);
    process.kill(first.pid, 'SIGKILL');
    await first.close().catch(() => {});
    const second = await startServer(api, { stateDir: first.stateDir, home: first.home });
    try {
      const v = (await second.client.callTool({ name: 'task_status', arguments: { task_id: id } }))
        .structuredContent as { state: string };
      expect(v.state).toBe('lost');
      expect(await waitFor(() => running(a).length === 0, 20_000)).toBe(true);
    } finally {
      await second.close();
    }
  });
});
