import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODEL_PACKAGES, registeredModels } from '../src/index';

const MODELS_DIR = join(import.meta.dirname, '../../../models');
const packageFolders = readdirSync(MODELS_DIR).filter((name) =>
  existsSync(join(MODELS_DIR, name, 'package.json')),
);

// The registry pins every file of every built-in model: a model file that changes without its pin
// (scripts/pin-models.mjs) would make every CDN download fail its checksum, so it fails here first.
describe('model package pins', () => {
  it('pin every model package under models/', () => {
    expect(packageFolders.length).toBeGreaterThanOrEqual(4);
    expect(Object.keys(MODEL_PACKAGES).sort()).toEqual([...packageFolders].sort());
  });

  it.each(packageFolders)('%s: name, version and every file match its pins', (folder) => {
    const manifest = JSON.parse(readFileSync(join(MODELS_DIR, folder, 'package.json'), 'utf8'));
    const pin = MODEL_PACKAGES[folder];
    expect(pin?.name).toBe(manifest.name);
    expect(pin?.version).toBe(manifest.version);
    const modelJson = JSON.parse(readFileSync(join(MODELS_DIR, folder, 'model.json'), 'utf8'));
    const loaded = [
      'model.json',
      ...modelJson.weightsManifest.flatMap((group: { paths: string[] }) => group.paths),
      'metadata.json',
    ];
    expect(Object.keys(pin?.files ?? {})).toEqual(loaded);
    for (const file of loaded) {
      const bytes = readFileSync(join(MODELS_DIR, folder, file));
      expect(pin?.files[file], `${folder}/${file}`).toEqual({
        sha256: createHash('sha256').update(bytes).digest('hex'),
        bytes: bytes.length,
      });
    }
    // Every file the store loads is in what npm publishes.
    for (const file of loaded) expect(manifest.files).toContain(file);
  });

  it('back every built-in CIFAR-10 id with a pinned package', () => {
    const packaged = registeredModels().filter((entry) => entry.source.kind === 'package');
    expect(packaged.map((entry) => entry.id)).toEqual(
      expect.arrayContaining(['cifar10', 'cifar10-resnet9', 'cifar10-seedcnn']),
    );
    for (const entry of packaged)
      if (entry.source.kind === 'package')
        expect(Object.values(MODEL_PACKAGES)).toContainEqual(entry.source.package);
  });
});
