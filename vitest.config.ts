import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Real claude processes cost ~1 s of a core and ~250 MB each: one test file per core, at most 4 (2 on the 2-core CI
// machine); `npx vitest run --maxWorkers N` overrides it. Timeouts catch hangs, not slowness: a busy machine (other
// work on the same cores) runs a file several times slower than a quiet one, so they are far above any quiet run.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: Math.min(4, Math.max(1, availableParallelism())),
    fileParallelism: true,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
  },
});
