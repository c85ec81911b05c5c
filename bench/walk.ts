import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { defaultConfig } from '../src/config/defaults.js';
import { createEngine } from '../src/create-engine.js';
import { createLogger } from '../src/log.js';
import { deepTaskTool } from '../tools/deep-task.js';
import { quickAnswerTool } from '../tools/quick-answer.js';
import { REAL_CLAUDE } from '../test/support/harness.js';
import { claudeEnv, makeTempHome, startScriptedApi } from '../test/support/scripted-api.js';
import type { Entry } from './walk-tracer.js';

// The walk of one call (issue 20), from the tool's handler to the spawn of claude: every entry into a project
// function, found by a breakpoint at its start (bench/walk-tracer.ts). A room is a module of src/. A stay is a room
// as the call reaches it by one path of rooms from the handler: calls inside a room, and calls again along the same
// path (a loop over a leaf, a return and a second call), are that one stay; the same room reached by another path is
// a second stay, and that room is entered twice. Printed: the stays in order, then the count and the rooms entered
// more than once. Run: node dist/bench/walk.js [quick|deep]
const SPAWN_ROOM = 'src/claude/spawn';

// Sends a message to the tracer and waits for its reply.
function ask<T>(worker: Worker, msg: Record<string, unknown>, reply: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: { type: string }) => {
      if (m.type !== reply) return;
      worker.off('message', on);
      resolve(m as T);
    };
    worker.on('message', on);
    worker.once('error', reject);
    worker.postMessage(msg);
  });
}

async function walk(mode: 'quick' | 'deep'): Promise<void> {
  const worker = new Worker(new URL('./walk-tracer.js', import.meta.url));
  const api = await startScriptedApi();
  const home = await makeTempHome();
  const config = defaultConfig(process.env, home);
  config.stateDir = mkdtempSync(join(tmpdir(), 'ct-walk-'));
  config.claudeBin = REAL_CLAUDE;
  config.logLevel = 'silent';
  config.allowedRoots = [tmpdir()];
  Object.assign(config.tiers.speed!, { warmSpares: 0, minSpares: 0, maxSpares: 0 });
  Object.assign(config.tiers.comprehensive!, { warmSpares: 0, minSpares: 0, maxSpares: 0, mcpConfig: null });
  const engine = await createEngine(config, createLogger('silent'), claudeEnv(api, home));
  try {
    const ctx = {
      tasks: engine.tasks,
      compare: engine.compare,
      quick: engine.quick,
      stats: engine.stats,
      signal: new AbortController().signal,
      clientId: 'walk',
      viewer: { principal: 'local', admin: false },
    };
    const call = async (text: string): Promise<void> => {
      if (mode === 'quick') {
        await quickAnswerTool(config.limits).handle({ prompt: `[[text:${text}]]` }, ctx);
        return;
      }
      const r = await deepTaskTool(config.limits).handle({ prompt: `[[text:${text}]]`, wait_s: 0 }, ctx);
      const id = (r.structured as { task_id: string }).task_id;
      await engine.tasks.follow(id, { waitS: 60 });
    };
    await ask(worker, { type: 'begin' }, 'begun');
    await call('warm-up');
    // The warm-up's claude exits on its own time after its answer: none of that belongs to the walked call.
    await new Promise((r) => setTimeout(r, 3000));
    const handler = mode === 'quick' ? 'tools/quick-answer' : 'tools/deep-task';
    const { armed } = await ask<{ armed: number }>(worker, { type: 'arm', handler, spawnRoom: SPAWN_ROOM }, 'armed');
    await call('walked');
    const { entries } = await ask<{ entries: Entry[] }>(worker, { type: 'report' }, 'report');
    report(mode, armed, entries);
  } finally {
    await worker.terminate();
    await engine.dispose('walk done');
    await api.close();
  }
}

// The stays in order (with the functions run in each), then the count of stays and rooms.
function report(mode: string, armed: number, entries: Entry[]): void {
  const stays = new Map<string, { room: string; from: string; fns: Set<string> }>();
  for (const e of entries) {
    if (!e.room.startsWith('src/')) continue;
    const key = [e.room, ...e.path].join(' < ');
    const stay = stays.get(key) ?? { room: e.room, from: e.path.join(' < '), fns: new Set<string>() };
    stay.fns.add(e.fn);
    stays.set(key, stay);
  }
  const src = [...stays.values()];
  const out = [`walk of one ${mode} call (${armed} functions watched):`];
  src.forEach((s, i) =>
    out.push(`${String(i + 1).padStart(3)}. ${s.room}: ${[...s.fns].join(', ')}\n       <- ${s.from}`),
  );
  const times = new Map<string, number>();
  for (const s of src) times.set(s.room, (times.get(s.room) ?? 0) + 1);
  const twice = [...times].filter(([, n]) => n > 1).map(([r, n]) => `${r} x${n}`);
  out.push(`${src.length} stays in ${times.size} rooms; entered more than once: ${twice.join(', ') || 'none'}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

await walk(process.argv[2] === 'deep' ? 'deep' : 'quick');
process.exit(0);
