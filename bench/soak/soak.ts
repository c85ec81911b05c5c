import { startScriptedApi } from '../../test/support/scripted-api.js';
import { claudeChildren, processesMatching, sleep, startServer } from '../../test/support/harness.js';
import { report } from '../report.js';
import { TaskStore } from '../../src/tasks/store.js';
import { isFinal } from '../../src/tasks/types.js';
import { round, rssMb } from '../stats.js';

// `node dist/bench/soak/soak.js [minutes]`: mixed load (quick answers, deep tasks with Bash steps, random kills, status
// polls).
async function main(): Promise<void> {
  const minutes = Number(process.argv[2] ?? process.env.SOAK_MINUTES ?? 5);
  const tag = `9${String(process.pid).slice(-3)}`;
  const api = await startScriptedApi();
  const s = await startServer(api, {
    env: { CLAUDE_TIERS_LOG_LEVEL: 'warn', CLAUDE_TIERS_MAX_RUNNING: '3' },
    spares: 1,
  });
  const calls: Record<string, number> = {};
  const failures: Record<string, number> = {};
  let throttled = 0;
  // A refused call over the rate limit is the limiter working: back off as told, and count it apart from failures.
  const refused = async (tool: string, r: { isError?: unknown; content?: unknown }): Promise<void> => {
    if (!r.isError) return;
    const text = String((r.content as Array<{ text: string }>)[0]?.text);
    const retry = /^rate limited: .*retry in ([\d.]+) s/.exec(text);
    if (!retry) return void count(failures, `${tool}: ${text.slice(0, 60)}`);
    throttled++;
    await sleep(Number(retry[1]) * 1000);
  };
  const tasks: string[] = [];
  const count = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
  await sleep(3000);
  const rssIdle = rssMb(s.pid);
  const loadStart = Date.now();
  const end = loadStart + minutes * 60_000;
  // Under load V8 grows its young generation (16 -> 32 MB) and code space and shrinks them when load dips, so RSS
  // saw-tooths by ~30 MB: growth compares the RSS peak of minute 2 (warmed up) with the peak of the last minute.
  const rssSamples: Array<{ at: number; mb: number }> = [];
  const sampler = setInterval(() => rssSamples.push({ at: Date.now() - loadStart, mb: rssMb(s.pid) }), 15_000);
  const peak = (from: number, to: number) =>
    Math.max(...rssSamples.filter((x) => x.at >= from && x.at < to).map((x) => x.mb));
  let i = 0;
  const worker = async () => {
    while (Date.now() < end) {
      const n = i++;
      const roll = Math.random();
      try {
        if (roll < 0.35) {
          count(calls, 'quick_answer');
          const r = await s.client.callTool({
            name: 'quick_answer',
            arguments: { prompt: `soak ${n} [[text:ok ${n}]]`, cache: n % 5 === 0 },
          });
          await refused('quick_answer', r);
        } else if (roll < 0.65) {
          count(calls, 'deep_task');
          const r = await s.client.callTool({
            name: 'deep_task',
            arguments: {
              prompt: `soak ${n} [[bash:echo started; sleep 1.0${tag}${n % 7}]][[bash:echo second]]`,
              wait_s: 0,
            },
          });
          await refused('deep_task', r);
          if (!r.isError) tasks.push((r.structuredContent as { task_id: string }).task_id);
        } else if (roll < 0.75 && tasks.length) {
          count(calls, 'kill_task');
          const id = tasks[Math.floor(Math.random() * tasks.length)]!;
          const r = await s.client.callTool({ name: 'kill_task', arguments: { task_id: id } });
          if (r.isError) count(failures, 'kill_task');
        } else if (tasks.length) {
          count(calls, 'task_status');
          const id = tasks[Math.floor(Math.random() * tasks.length)]!;
          const r = await s.client.callTool({ name: 'task_status', arguments: { task_id: id, wait_s: 1 } });
          if (r.isError) count(failures, 'task_status');
        }
      } catch (err) {
        count(failures, `transport: ${(err as Error).message.slice(0, 40)}`);
      }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  clearInterval(sampler);
  // Shorter runs have no warmed-up minute to compare with: they fall back to the idle reading.
  const rssStart = minutes >= 3 ? peak(60_000, 120_000) : rssIdle;
  const rssEnd = peak(Math.max(120_000, (minutes - 1) * 60_000), Infinity);
  // Drain: the load has stopped; every task must reach a final state.
  let unfinished = tasks.length;
  const drainEnd = Date.now() + 180_000;
  while (unfinished && Date.now() < drainEnd) {
    await s.client.callTool(
      { name: 'task_status', arguments: { task_ids: tasks.slice(-50), wait_for: 'all', wait_s: 20 } },
      { timeout: 60_000 },
    );
    const states = await Promise.all(
      tasks.map(
        async (id) =>
          (
            (await s.client.callTool({ name: 'task_status', arguments: { task_id: id, tail: 0 } }))
              .structuredContent as { final: boolean }
          ).final,
      ),
    );
    unfinished = states.filter((f) => !f).length;
  }
  const rssAfterDrain = rssMb(s.pid);
  const pid = s.pid;
  await s.close();
  await sleep(2000);
  const orphans = processesMatching(`sleep 1.0${tag}`).length + claudeChildren(pid).length;
  const store = new TaskStore(s.stateDir);
  const notFinalOnDisk = tasks.filter((id) => !isFinal(store.readRecord(id)?.state ?? 'queued')).length;
  await api.close();
  const total = Object.values(calls).reduce((a, b) => a + b, 0);
  report(
    'soak',
    [
      {
        minutes,
        calls: total,
        failures: Object.values(failures).reduce((a, b) => a + b, 0),
        throttled,
        tasks: tasks.length,
        tasks_without_final_state: unfinished,
        not_final_on_disk_after_exit: notFinalOnDisk,
        orphan_processes: orphans,
        rss_idle_mb: rssIdle,
        rss_start_mb: rssStart,
        rss_end_mb: rssEnd,
        rss_after_drain_mb: rssAfterDrain,
        rss_growth_pct: round(((rssEnd - rssStart) / rssStart) * 100),
      },
    ],
    {
      calls,
      failures,
      targets: '0 orphans, 0 tasks without a final state, RSS growth < 20 %',
      rss: 'growth = peak of the last minute of load vs peak of minute 2; idle = 3 s after start; samples every 15 s',
      rss_samples: rssSamples,
    },
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
