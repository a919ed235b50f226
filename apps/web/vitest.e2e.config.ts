import { defineConfig } from 'vitest/config';

// End-to-end tests drive Debian's Chromium through playwright-core against `next start`; they need
// `next build` first (turbo's test:e2e depends on build).
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/e2e.json' },
  },
});
