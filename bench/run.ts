import { startScriptedApi } from '../test/support/scripted-api.js';
import { benchBoard } from './board.js';
import { benchConcurrency } from './concurrency.js';
import { benchContainment } from './containment.js';
import { benchFirstEvent } from './first-event.js';
import { benchIsolation } from './isolation.js';
import { benchProgress } from './progress.js';
import { benchQuick } from './quick.js';
import { benchRegistry } from './registry.js';
import { benchScale } from './scale.js';
import { benchShutdown } from './shutdown.js';
import { benchStartup } from './startup.js';

const ALL = {
  startup: benchStartup,
  quick: benchQuick,
  progress: benchProgress,
  registry: benchRegistry,
  concurrency: benchConcurrency,
  containment: benchContainment,
  'first-event': benchFirstEvent,
  scale: benchScale,
  isolation: benchIsolation,
  shutdown: benchShutdown,
  board: benchBoard,
} as const;

// `npm run bench [name ...]`: runs the benchmarks against the scripted API and the real claude; results in
// bench/results/.
async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((n) => n in ALL) as Array<keyof typeof ALL>;
  const api = await startScriptedApi();
  try {
    for (const name of names.length ? names : (Object.keys(ALL) as Array<keyof typeof ALL>)) await ALL[name](api);
  } finally {
    await api.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  // A failed benchmark may leave its server's client open: exit, so the server sees stdin close and stops too.
  process.exit(1);
});
