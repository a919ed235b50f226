// Compiles the package's WebAssembly text kernels (src/simd/*.wat) into the TypeScript modules that
// carry them as base64 (src/simd/*.wasm.ts), so the published package needs no .wasm file to locate at
// run time. Run after editing a .wat: `pnpm --filter @imgcls/wasm-grad run compile-wat`; a test fails
// while a .wasm.ts is out of date.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { watToBinaries } from './wat.mjs';

const folder = fileURLToPath(new URL('../src/simd/', import.meta.url));
for (const name of readdirSync(folder).filter((file) => file.endsWith('.wat'))) {
  const { shared, unshared } = await watToBinaries(readFileSync(join(folder, name), 'utf8'), name);
  const base = name.slice(0, -'.wat'.length);
  const base64 = (binary) => Buffer.from(binary).toString('base64');
  writeFileSync(
    join(folder, `${base}.wasm.ts`),
    `// Generated from ${name} by scripts/compile-wat.mjs: edit the .wat and run it again.\n` +
      `/** The module importing a shared memory (env.memory), for threads. */\n` +
      `export const SHARED_MEMORY_WASM = '${base64(shared)}';\n` +
      `/** The same module importing a plain memory. */\n` +
      `export const PLAIN_MEMORY_WASM = '${base64(unshared)}';\n`,
  );
  console.log(`${name} → ${base}.wasm.ts (${shared.length} bytes)`);
}
