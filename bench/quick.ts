import { join } from 'node:path';
import { execa } from 'execa';
import { buildClaudeArgs, buildClaudeEnv } from '../src/claude/args.js';
import { defaultConfig } from '../src/config/defaults.js';
import { planRun } from '../src/tiers.js';
import { claudeEnv, makeTempHome, type ScriptedApi } from '../test/support/scripted-api.js';
import { REAL_CLAUDE, ROOT, sleep, startServer } from '../test/support/harness.js';
import { report } from './report.js';
import { median, ratioRows, round } from './stats.js';

// quick + overhead: quick_answer through MCP (warm spares, and cold) against claude -p run directly, interleaved A/B/C.
export async function benchQuick(api: ScriptedApi, rounds = 15): Promise<void> {
  const home = await makeTempHome();
  const warm = await startServer(api, { spares: 1, home });
  const cold = await startServer(api, { spares: 0, home });
  const speed = defaultConfig().tiers.speed!;
  // Direct: the same speed-tier flags, as a person would run them by hand (`-p --output-format json`, prompt on stdin).
  const plan = await planRun(
    'speed',
    speed,
    ROOT,
    { stateDir: home, ownDir: ROOT, hidden: [] },
    join(home, 'bench-quick-files'),
  );
  const directArgs = buildClaudeArgs(speed, { ...plan })
    .filter((a) => !a.startsWith('--input-format') && a !== '--verbose')
    .map((a) => (a.startsWith('--output-format') ? '--output-format=json' : a));
  const directEnv = { ...buildClaudeEnv(speed, claudeEnv(api, home), 0) };
  const times = { warm: [] as number[], cold: [] as number[], direct: [] as number[] };
  await sleep(2500);
  for (let i = 0; i < rounds; i++) {
    const prompt = `bench question ${i} [[text:4]]`;
    // Order inside a round: cold, direct, then warm; the spare that replaces the used one starts during the pause,
    // so its start-up never competes with a measured run on these 2 cores.
    let t = performance.now();
    await cold.client.callTool({ name: 'quick_answer', arguments: { prompt } });
    times.cold.push(performance.now() - t);
    t = performance.now();
    const d = await execa(REAL_CLAUDE, directArgs, {
      env: directEnv,
      extendEnv: false,
      input: prompt,
      cwd: ROOT,
      reject: false,
    });
    times.direct.push(performance.now() - t);
    if (!d.stdout.includes('"result":"4"')) process.stderr.write(`round ${i}: direct run gave no result\n`);
    t = performance.now();
    const w = await warm.client.callTool({ name: 'quick_answer', arguments: { prompt } });
    times.warm.push(performance.now() - t);
    if ((w.structuredContent as { warm?: boolean }).warm !== true)
      process.stderr.write(`round ${i}: the warm server answered cold\n`);
    await sleep(2500);
  }
  await warm.close();
  await cold.close();
  const dm = median(times.direct);
  report(
    'quick',
    ratioRows({ name: 'direct', times: times.direct }, [
      ['quick_answer warm spare (MCP)', times.warm],
      ['quick_answer cold (MCP)', times.cold],
      ['claude -p direct', times.direct],
    ]),
    {
      rounds,
      target: 'warm median <= 0.35 x direct',
      raw_ms: times,
    },
  );
  report(
    'overhead',
    [
      {
        path: 'quick_answer cold vs direct',
        cold_median_ms: round(median(times.cold)),
        direct_median_ms: round(dm),
        ratio: round(median(times.cold) / dm, 3),
        added_ms: round(median(times.cold) - dm),
      },
    ],
    {
      target: '<= 1.05 x direct',
    },
  );
}
