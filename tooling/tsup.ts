import { defineConfig, type Options } from 'tsup';

/**
 * The one build configuration every published package uses: ESM + CJS + .d.ts/.d.cts, ES2022,
 * dependencies left external. `entry` maps output names to source files, e.g. `{ index: 'src/index.ts' }`.
 */
export function libraryConfig(entry: Record<string, string>, overrides: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    splitting: false,
    treeshake: true,
    ...overrides,
  });
}
