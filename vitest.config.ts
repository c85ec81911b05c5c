import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Real claude processes cost ~0.8 s of a core and ~250 MB each, yet a test file also waits (on timers, on a task to
// stop, on Redis): one file per core left a quiet 2-core machine a quarter idle. So 1.5 files per core, 3 on the
// 2-core CI machine, at most 6; `npx vitest run --maxWorkers N` overrides it. Timeouts catch hangs, not slowness: a
// busy machine (other work on the same cores) runs a file several times slower than a quiet one, so they are far
// above any quiet run.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: Math.min(6, Math.max(2, Math.ceil(availableParallelism() * 1.5))),
    fileParallelism: true,
    // No test file changes process-wide state (env, cwd, globals, mocks), so a worker runs its files in one process:
    // a fresh process per file cost ~0.2 s of CPU and ~1 s of import each, 77 times.
    isolate: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
  },
});
