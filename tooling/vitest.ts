import { fileURLToPath } from 'node:url';
import { defaultServerConditions } from 'vite';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * Shared vitest setup: tests import workspace packages through the `@imgcls/source` export
 * condition, so they run against `src/` without a prior build. Temporary folders are cleaned up per
 * test file (see `vitest-temp-dir.ts`).
 */
export function packageTestConfig(overrides: ViteUserConfig['test'] = {}) {
  return defineConfig({
    resolve: { conditions: ['@imgcls/source'] },
    ssr: { resolve: { conditions: ['@imgcls/source', ...defaultServerConditions] } },
    test: {
      include: ['test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 120_000,
      pool: 'forks',
      // Every test file's temporary folders live in one folder that is removed after it.
      setupFiles: [fileURLToPath(new URL('./vitest-temp-dir.ts', import.meta.url))],
      // The JSON report feeds the one-line summary that `scripts/test-summary.mjs` prints for CI.
      reporters: ['default', 'json'],
      outputFile: { json: 'test-results/vitest.json' },
      ...overrides,
    },
  });
}
