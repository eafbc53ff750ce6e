import { defineConfig } from 'vitest/config';

// One run over every workspace so CI gets one summary; each test file makes
// its own database, queue names and upstreams, so files run in parallel.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', { test: { name: 'cistern', include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } }],
  },
});
