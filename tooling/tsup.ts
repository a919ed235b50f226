import { defineConfig, type Options } from 'tsup';

/**
 * The one build configuration every published package uses: ESM + CJS + .d.ts/.d.cts, ES2022,
 * dependencies left external. `entry` maps output names to source files, e.g. `{ index: 'src/index.ts' }`.
 * Code shared by several entries goes to chunks they import (`splitting`, both formats), so a package's
 * state exists once: bundled per entry, `@imgcls/models/node` had a model registry of its own, and
 * wasm-grad's kernels registered from one entry never saw the threads started from the other.
 */
export function libraryConfig(entry: Record<string, string>, overrides: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    splitting: true,
    treeshake: true,
    ...overrides,
  });
}
