import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // e2e tests start real processes on real ports; run files one at a time on 2 cores.
    fileParallelism: false,
    reporters: ['default'],
  },
});
