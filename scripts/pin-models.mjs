#!/usr/bin/env node
// Writes packages/models/src/store/model-packages.json: for every model package under models/ (a folder
// with a package.json), its npm name, version and the SHA-256 and size of each file the model store loads
// (model.json, its weight shards, metadata.json). The registry pins built-in models to these, so a
// download from a CDN or mirror is checked file by file. Run it after retraining a model or after
// `changeset version` (the `version-packages` script does); a test fails while the pins are stale.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const modelsDir = join(root, 'models');
const output = join(root, 'packages/models/src/store/model-packages.json');

/** What a model store checks a downloaded file against: its SHA-256 and its size in bytes. */
function pin(path) {
  const bytes = readFileSync(path);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

/** The files of a model folder that a model store fetches, in load order. */
function modelFiles(folder) {
  const modelJson = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
  const shards = modelJson.weightsManifest.flatMap((group) => group.paths);
  return ['model.json', ...shards, 'metadata.json'];
}

const pins = {};
for (const entry of readdirSync(modelsDir, { withFileTypes: true })) {
  const folder = join(modelsDir, entry.name);
  if (!entry.isDirectory() || !existsSync(join(folder, 'package.json'))) continue;
  const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
  const files = Object.fromEntries(
    modelFiles(folder).map((file) => [file, pin(join(folder, file))]),
  );
  pins[entry.name] = { name: manifest.name, version: manifest.version, folder: entry.name, files };
}
writeFileSync(output, `${JSON.stringify(pins, null, 2)}\n`);
console.log(`pin-models: ${Object.keys(pins).length} model packages pinned in ${output}`);
