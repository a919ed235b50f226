import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CDN_LAYOUTS, DEFAULT_MODEL_SETTINGS, modelSettings } from '@imgcls/models';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors';
import { applyStoreFlags, modelReference, modelsFolder, newModelFolder } from '../src/model-store';

const project = (withModels: boolean) => {
  const cwd = mkdtempSync(join(tmpdir(), 'imgcls-project-'));
  if (withModels) mkdirSync(join(cwd, 'models'));
  return cwd;
};

describe('applyStoreFlags: the global flags into modelSettings', () => {
  afterEach(() => {
    Object.assign(modelSettings, DEFAULT_MODEL_SETTINGS);
  });

  it('takes ./models only when it exists, and the environment before it', () => {
    const cwd = project(true);
    applyStoreFlags({}, { env: {}, cwd });
    expect(modelsFolder()).toEqual({ folder: join(cwd, 'models'), origin: './models' });
    expect(modelSettings).toMatchObject({ cacheDir: undefined, offline: false, allowRemote: true });

    applyStoreFlags({}, { env: {}, cwd: project(false) });
    expect(modelSettings.modelsFolder).toBeUndefined();

    const elsewhere = project(false);
    applyStoreFlags({}, { env: { IMGCLS_MODELS_DIR: elsewhere, IMGCLS_CACHE_DIR: 'c' }, cwd });
    expect(modelsFolder()).toEqual({ folder: elsewhere, origin: '$IMGCLS_MODELS_DIR' });
    expect(modelSettings.cacheDir).toBe(join(cwd, 'c'));

    applyStoreFlags({ modelsDir: 'models', cacheDir: 'cache' }, { env: {}, cwd });
    expect(modelsFolder()?.origin).toBe('--models-dir');
    expect(modelSettings.cacheDir).toBe(join(cwd, 'cache'));
  });

  it('refuses a models folder that is missing (unless the command creates it) or a file', () => {
    const cwd = project(false);
    expect(() => applyStoreFlags({ modelsDir: 'new' }, { env: {}, cwd })).toThrow(UsageError);
    expect(() =>
      applyStoreFlags({}, { env: { IMGCLS_MODELS_DIR: join(cwd, 'gone') }, cwd }),
    ).toThrow(/\$IMGCLS_MODELS_DIR \S+gone does not exist/);
    applyStoreFlags({ modelsDir: 'new' }, { env: {}, cwd, createsModels: true });
    expect(newModelFolder('mine')).toBe(join(cwd, 'new', 'mine'));
    writeFileSync(join(cwd, 'file'), 'x');
    expect(() => applyStoreFlags({ modelsDir: 'file' }, { env: {}, cwd })).toThrow(/is a file/);
    expect(() => applyStoreFlags({ cacheDir: 'file' }, { env: {}, cwd })).toThrow(/is a file/);
  });

  it('sets the CDN layout, a mirror host over it, and the offline and no-remote switches', () => {
    const cwd = project(false);
    applyStoreFlags({ cdn: 'unpkg' }, { env: {}, cwd });
    expect(modelSettings).toMatchObject(CDN_LAYOUTS.unpkg);
    applyStoreFlags({ cdn: 'unpkg', remoteHost: 'http://127.0.0.1:8080/npm/' }, { env: {}, cwd });
    expect(modelSettings).toMatchObject({
      remoteHost: 'http://127.0.0.1:8080/npm',
      remotePathTemplate: CDN_LAYOUTS.unpkg.remotePathTemplate,
    });
    applyStoreFlags({ offline: true, remote: false }, { env: {}, cwd });
    expect(modelSettings).toMatchObject({
      ...CDN_LAYOUTS.jsdelivr,
      offline: true,
      allowRemote: false,
    });
    expect(() => applyStoreFlags({ remoteHost: 'ftp://mirror' }, { env: {}, cwd })).toThrow(
      /--remote-host must be an http\(s\) URL/,
    );
    expect(() => applyStoreFlags({ cdn: 'nope' }, { env: {}, cwd })).toThrow(
      /--cdn must be one of jsdelivr, unpkg/,
    );
  });

  it('maps --model values: existing folders as absolute paths, unregistered names in the models folder, ids as typed', () => {
    const cwd = project(true);
    mkdirSync(join(cwd, 'models', 'flowers'));
    writeFileSync(join(cwd, 'models', 'flowers', 'model.json'), '{}');
    applyStoreFlags({}, { env: {}, cwd });
    expect(modelReference('flowers')).toBe(join(cwd, 'models', 'flowers'));
    expect(modelReference('cifar10')).toBe('cifar10');
    expect(modelReference('https://example.com/model.json')).toBe('https://example.com/model.json');
    expect(modelReference(join(cwd, 'models'))).toBe(join(cwd, 'models'));
  });
});
