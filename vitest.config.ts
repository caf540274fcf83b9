import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: the heavy end-to-end files would starve each other if run all at once.
    maxWorkers: 2,
  },
});
