#!/usr/bin/env node
// Before `next build` / `next dev`: copies what the browser must fetch into public/ (ignored by git):
// the trained models of the repository's models/ folder, the comparison's charts, and the TF.js wasm binaries.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const modelsDir = join(appDir, '../../models');
const publicModels = join(appDir, 'public/models');
rmSync(publicModels, { recursive: true, force: true });
mkdirSync(publicModels, { recursive: true });
const shipped = existsSync(modelsDir)
  ? readdirSync(modelsDir, { withFileTypes: true }).filter(
      (entry) => entry.isDirectory() && existsSync(join(modelsDir, entry.name, 'model.json')),
    )
  : [];
for (const entry of shipped)
  cpSync(join(modelsDir, entry.name), join(publicModels, entry.name), { recursive: true });
// The charts models/COMPARISON.md shows (written beside it by imgcls compare), at the same relative path.
const comparisonCharts = join(modelsDir, 'comparison');
if (existsSync(comparisonCharts))
  cpSync(comparisonCharts, join(publicModels, 'comparison'), { recursive: true });
console.log(
  `prepare-public: ${shipped.length} model(s) copied: ${shipped.map((entry) => entry.name).join(', ') || 'none'}`,
);

const wasmDist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
const publicWasm = join(appDir, 'public/tfjs-wasm');
mkdirSync(publicWasm, { recursive: true });
for (const file of readdirSync(wasmDist).filter((name) => name.endsWith('.wasm')))
  cpSync(join(wasmDist, file), join(publicWasm, file));
