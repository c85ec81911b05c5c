import { defineConfig } from 'vitest/config';

// Real claude processes cost ~1 s and ~250 MB each: keep file parallelism low on 2-core machines.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    reporters: ['default'],
  },
});
