#!/usr/bin/env node
// Before `next build` / `next dev`: writes what the browser must fetch into public/ (ignored by git).
// - public/cdn/: the model packages this app depends on (package.json), laid out by the model store's
//   mirrorModelPackages as an npm CDN lays them out. The worker points modelSettings.remoteHost here, so
//   the CIFAR-10 panel loads the way any app loads a pinned model package from a self-hosted mirror:
//   every file checked against its pin and kept in Cache Storage.
// - public/models/: models of the repository's models/ folder that are not model packages (imported with
//   `imgcls models import`, e.g. models/mobilenet-v2/), reached through the modelsFolder setting.
// - public/model-cards/: the charts the Models page's cards and COMPARISON.md show (the page itself reads
//   the repository's models/ at build time).
// - public/tfjs-wasm/: the TF.js wasm binaries.
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODEL_PACKAGES, registeredModels } from '@imgcls/models';
import { mirrorModelPackages } from '@imgcls/models/store';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const modelsDir = join(appDir, '../../models');
const publicDir = join(appDir, 'public');

function freshFolder(name) {
  const folder = join(publicDir, name);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  return folder;
}

// The mirror: one registry id per model package the app depends on.
const { dependencies = {} } = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8'));
const packageIds = new Map();
for (const entry of registeredModels())
  if (
    entry.source.kind === 'package' &&
    entry.source.package.name in dependencies &&
    !packageIds.has(entry.source.package.name)
  )
    packageIds.set(entry.source.package.name, entry.id);
const unknown = Object.keys(dependencies).filter(
  (name) => name.startsWith('@imgcls/model-') && !packageIds.has(name),
);
if (unknown.length > 0)
  throw new Error(
    `prepare-public: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not pinned by the @imgcls/models registry.`,
  );
const mirrored = await mirrorModelPackages([...packageIds.values()], freshFolder('cdn'));
console.log(
  `prepare-public: ${mirrored.length} model package(s) mirrored into public/cdn/: ${mirrored.join(', ') || 'none'}`,
);

// Models that are not packages (no pins, no mirror): served as a models folder.
const packageFolders = new Set(Object.values(MODEL_PACKAGES).map((pin) => pin.folder));
const folders = existsSync(modelsDir)
  ? readdirSync(modelsDir, { withFileTypes: true }).filter((entry) => entry.isDirectory())
  : [];
const publicModels = freshFolder('models');
const imported = folders.filter(
  (entry) =>
    !packageFolders.has(entry.name) && existsSync(join(modelsDir, entry.name, 'model.json')),
);
for (const entry of imported)
  cpSync(join(modelsDir, entry.name), join(publicModels, entry.name), { recursive: true });
console.log(
  `prepare-public: ${imported.length} imported model(s) copied into public/models/: ${imported.map((entry) => entry.name).join(', ') || 'none'}`,
);

// Charts only (the figures the Markdown links to), never weights or training checkpoints.
const cards = freshFolder('model-cards');
const isFigure = (source) =>
  statSync(source).isDirectory()
    ? basename(source) !== 'checkpoint'
    : ['.svg', '.png'].includes(extname(source));
for (const entry of folders)
  cpSync(join(modelsDir, entry.name), join(cards, entry.name), {
    recursive: true,
    filter: isFigure,
  });

const wasmDist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
const publicWasm = join(publicDir, 'tfjs-wasm');
mkdirSync(publicWasm, { recursive: true });
for (const file of readdirSync(wasmDist).filter((name) => name.endsWith('.wasm')))
  cpSync(join(wasmDist, file), join(publicWasm, file));
