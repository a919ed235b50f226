import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRESETS } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CdnServer, startCdnServer } from '../../../tooling/cdn-server';
import {
  CDN_LAYOUTS,
  DEFAULT_MODEL_SETTINGS,
  type FilePins,
  MODEL_PACKAGES,
  modelSettings,
  packageFileUrl,
  registerModel,
} from '../src/index';
import { directoryHandler, writeMetadata } from '../src/node';
import { mirrorModelPackages, modelStore, pullModel } from '../src/store-node';
import { caught, useWasm } from './setup';

const MODELS_DIR = join(import.meta.dirname, '../../../models');
const FIXTURE = { name: '@imgcls/model-store-fixture', version: '1.2.3', folder: 'store-fixture' };

function pinsOf(directory: string): FilePins {
  return Object.fromEntries(
    ['model.json', 'weights.bin', 'metadata.json'].map((file) => {
      const bytes = readFileSync(join(directory, file));
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      return [file, { sha256, bytes: bytes.length }];
    }),
  );
}

/** A small model saved as a package folder would hold it, and registered as a package nobody installed. */
async function fixturePackage(): Promise<{ directory: string; probe: () => Float32Array }> {
  const directory = mkdtempSync(join(tmpdir(), 'imgcls-store-fixture-'));
  const input = tfl.input({ shape: [4] });
  const output = tfl.layers
    .dense({ units: 3, activation: 'softmax', name: 'predictions' })
    .apply(input) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output });
  await model.save(directoryHandler(directory));
  await writeMetadata(directory, {
    schemaVersion: 1,
    id: 'store-fixture',
    name: 'store fixture',
    version: '1',
    format: 'layers-model',
    labels: ['a', 'b', 'c'],
    output: 'probabilities',
    preset: PRESETS.cifar10,
  });
  const expected = tf.tidy(() => (model.predict(tf.ones([1, 4])) as tf.Tensor).dataSync());
  model.dispose();
  registerModel({
    id: 'store-fixture',
    description: 'a package that is not installed, served by a local CDN',
    source: { kind: 'package', package: { ...FIXTURE, files: pinsOf(directory) } },
  });
  return { directory, probe: () => expected as Float32Array };
}

async function predictOnes(handler: tf.io.IOHandler): Promise<Float32Array> {
  const model = await tfl.loadLayersModel(handler);
  const values = tf.tidy(() => (model.predict(tf.ones([1, 4])) as tf.Tensor).dataSync());
  model.dispose();
  return values as Float32Array;
}

describe('model store settings', () => {
  afterEach(() => Object.assign(modelSettings, DEFAULT_MODEL_SETTINGS));

  it('builds jsDelivr and unpkg URLs of a package file', () => {
    const pin = { name: '@imgcls/model-cifar10-airbench', version: '0.1.0' };
    expect(packageFileUrl(CDN_LAYOUTS.jsdelivr, pin, 'model.json')).toBe(
      'https://cdn.jsdelivr.net/npm/@imgcls/model-cifar10-airbench@0.1.0/model.json',
    );
    expect(packageFileUrl(CDN_LAYOUTS.unpkg, pin, 'weights.bin')).toBe(
      'https://unpkg.com/@imgcls/model-cifar10-airbench@0.1.0/weights.bin',
    );
    expect(
      packageFileUrl(
        {
          remoteHost: 'https://mirror.example.com/cdn/',
          remotePathTemplate: '/npm/{package}@{version}/{file}',
        },
        pin,
        'metadata.json',
      ),
    ).toBe('https://mirror.example.com/cdn/npm/@imgcls/model-cifar10-airbench@0.1.0/metadata.json');
  });

  it('rejects a remote host that is not a URL and a template without its placeholders', async () => {
    expect(
      (await caught(modelStore.locate('cifar10', { remoteHost: 'cdn.example.com' }))).code,
    ).toBe('INVALID_ARGUMENT');
    const template = await caught(
      modelStore.locate('cifar10', { remotePathTemplate: '/npm/{package}/{file}' }),
    );
    expect(template.message).toContain('{version}');
  });

  it('lets per-call options win over modelSettings', async () => {
    modelSettings.modelsFolder = '/nowhere';
    modelSettings.allowRemote = false;
    const location = await modelStore.locate('cifar10', { modelsFolder: MODELS_DIR });
    expect(location).toEqual({
      source: 'models-folder',
      location: join(MODELS_DIR, 'cifar10-airbench-float16'),
    });
  });
});

describe('model store in Node', () => {
  let fixture: Awaited<ReturnType<typeof fixturePackage>>;
  let cdn: CdnServer;
  beforeAll(async () => {
    await useWasm();
    fixture = await fixturePackage();
    cdn = await startCdnServer({ [`${FIXTURE.name}@${FIXTURE.version}`]: fixture.directory });
  });
  afterAll(() => cdn?.close());
  afterEach(() => {
    for (const file of ['model.json', 'weights.bin', 'metadata.json']) cdn.fault(file, undefined);
  });
  const cacheDir = () => mkdtempSync(join(tmpdir(), 'imgcls-store-cache-'));
  const remote = () => ({ remoteHost: cdn.url });

  it('serves a built-in id from its installed package, found by module resolution, files verified', async () => {
    const resolved = await modelStore.resolve('cifar10-seedcnn', { allowRemote: false });
    expect(resolved.source).toBe('package');
    const manifest = JSON.parse(readFileSync(join(resolved.origin, 'package.json'), 'utf8'));
    expect(manifest.name).toBe('@imgcls/model-cifar10-seedcnn');
    expect(resolved.metadata?.id).toBe('cifar10-seedcnn');
    const artifacts = await resolved.handler.load?.();
    expect(artifacts?.weightData).toBeDefined();
  });

  it('prefers the configured models folder, and loads a caller folder as given', async () => {
    const location = await modelStore.locate('cifar10-seedcnn', { modelsFolder: MODELS_DIR });
    expect(location.source).toBe('models-folder');
    const folder = await modelStore.resolve(join(MODELS_DIR, 'cifar10-seedcnn'));
    expect(folder.source).toBe('path');
    // A bare name is never a folder in the working directory: it is an id, or an error that says
    // how to load the folder of that name.
    const here = mkdtempSync(join(tmpdir(), 'imgcls-bare-'));
    cpSync(join(MODELS_DIR, 'cifar10-seedcnn'), join(here, 'my-model'), { recursive: true });
    const cwd = process.cwd();
    process.chdir(here);
    try {
      const bare = await caught(modelStore.resolve('my-model'));
      expect(bare.code).toBe('UNKNOWN_MODEL');
      expect(bare.message).toContain('pass "./my-model"');
    } finally {
      process.chdir(cwd);
    }
  });

  it('downloads a package missing locally from the CDN once, verified, then serves it offline from the cache', async () => {
    const cache = cacheDir();
    expect(await modelStore.locate('store-fixture', { ...remote(), cacheDir: cache })).toEqual({
      source: 'cdn',
      location: `${cdn.url}/npm/${FIXTURE.name}@${FIXTURE.version}/model.json`,
      cached: false,
    });
    const first = await modelStore.resolve('store-fixture', { ...remote(), cacheDir: cache });
    expect(first.source).toBe('cdn');
    expect(await predictOnes(first.handler)).toEqual(fixture.probe());
    const served = cdn.requests.length;
    const offline = await modelStore.resolve('store-fixture', {
      ...remote(),
      cacheDir: cache,
      offline: true,
    });
    expect(await predictOnes(offline.handler)).toEqual(fixture.probe());
    expect(cdn.requests.length).toBe(served);
    expect(
      (await modelStore.locate('store-fixture', { ...remote(), cacheDir: cache })).cached,
    ).toBe(true);
  });

  it.each([
    ['a corrupt shard', 'weights.bin', 'corrupt', 'CHECKSUM_MISMATCH'],
    ['a truncated shard', 'weights.bin', 'truncate', 'CHECKSUM_MISMATCH'],
    ['an HTML error page as model.json', 'model.json', 'html', 'CHECKSUM_MISMATCH'],
    ['a missing shard', 'weights.bin', 'missing', 'DOWNLOAD_FAILED'],
    ['a missing pinned metadata.json', 'metadata.json', 'missing', 'DOWNLOAD_FAILED'],
  ] as const)(
    'rejects %s, caches nothing bad, and loads from a good source next',
    async (_, file, fault, code) => {
      const cache = cacheDir();
      cdn.fault(file, fault);
      const error = await caught(
        modelStore
          .resolve('store-fixture', { ...remote(), cacheDir: cache })
          .then((resolved) => resolved.handler.load?.()),
      );
      expect(error.code).toBe(code);
      const cachedNames = readdirSync(cache);
      expect(cachedNames.some((name) => name.endsWith(file))).toBe(false);
      expect(cachedNames.some((name) => name.includes('.partial'))).toBe(false);
      cdn.fault(file, undefined);
      const good = await modelStore.resolve('store-fixture', { ...remote(), cacheDir: cache });
      expect(await predictOnes(good.handler)).toEqual(fixture.probe());
    },
  );

  it('names an HTML page served for an unpinned model.json, and does not cache it', async () => {
    const cache = cacheDir();
    cdn.fault('model.json', 'html');
    const url = `${cdn.url}/npm/${FIXTURE.name}@${FIXTURE.version}/model.json`;
    const error = await caught(modelStore.resolve(url, { cacheDir: cache }));
    expect(error.code).toBe('MODEL_LOAD_FAILED');
    expect(error.message).toMatch(/HTML page/);
    cdn.fault('model.json', undefined);
    expect(await predictOnes((await modelStore.resolve(url, { cacheDir: cache })).handler)).toEqual(
      fixture.probe(),
    );
  });

  it('rejects a truncated shard of an unpinned model by its size, and does not cache it', async () => {
    const cache = cacheDir();
    cdn.fault('weights.bin', 'truncate');
    const url = `${cdn.url}/npm/${FIXTURE.name}@${FIXTURE.version}/model.json`;
    const load = async () => (await modelStore.resolve(url, { cacheDir: cache })).handler.load?.();
    const error = await caught(load());
    expect(error.code).toBe('MODEL_LOAD_FAILED');
    expect(error.message).toMatch(/truncated/);
    cdn.fault('weights.bin', undefined);
    expect(await predictOnes((await modelStore.resolve(url, { cacheDir: cache })).handler)).toEqual(
      fixture.probe(),
    );
  });

  it('says where it looked and what to do when an id is found nowhere', async () => {
    const noRemote = await caught(modelStore.resolve('store-fixture', { allowRemote: false }));
    expect(noRemote.code).toBe('MODEL_NOT_FOUND');
    expect(noRemote.message).toContain(`${FIXTURE.name} is not installed`);
    expect(noRemote.message).toContain(`npm install ${FIXTURE.name}@${FIXTURE.version}`);
    const offline = await caught(
      modelStore.resolve('store-fixture', { ...remote(), cacheDir: cacheDir(), offline: true }),
    );
    expect(offline.code).toBe('MODEL_NOT_FOUND');
    expect(offline.message).toMatch(/not in the download cache and offline mode is on/);
  });

  it('refuses an installed package of another version than the one pinned', async () => {
    const seedcnn = MODEL_PACKAGES['cifar10-seedcnn'];
    registerModel({
      id: 'seedcnn-other-version',
      description: 'pinned to a version that is not the installed one',
      source: {
        kind: 'package',
        package: { ...(seedcnn as NonNullable<typeof seedcnn>), version: '9.9.9' },
      },
    });
    const error = await caught(modelStore.resolve('seedcnn-other-version'));
    expect(error.code).toBe('MODEL_PACKAGE_VERSION');
    expect(error.message).toContain('npm install @imgcls/model-cifar10-seedcnn@9.9.9');
  });

  it('pulls a package into the cache with progress over its pinned bytes', async () => {
    const cache = cacheDir();
    const progress: [number, number | undefined][] = [];
    const pulled = await pullModel('store-fixture', {
      ...remote(),
      cacheDir: cache,
      onProgress: (loaded, total) => progress.push([loaded, total]),
    });
    const pins = pinsOf(fixture.directory);
    const total = Object.values(pins).reduce((sum, pin) => sum + (pin.bytes ?? 0), 0);
    expect(pulled.pinned).toBe('every file');
    expect(pulled.files.map((file) => file.sha256)).toEqual(
      Object.values(pins).map((pin) => pin.sha256),
    );
    expect(progress.at(-1)).toEqual([total, total]);
    for (const file of pulled.files) expect(existsSync(file.path)).toBe(true);
  });

  it('tells where the remote copy of an id is and whether the cache holds it', async () => {
    const cache = cacheDir();
    const url = `${cdn.url}/npm/${FIXTURE.name}@${FIXTURE.version}/model.json`;
    expect(await modelStore.remote('store-fixture', { ...remote(), cacheDir: cache })).toEqual({
      url,
      cached: false,
    });
    await pullModel('store-fixture', { ...remote(), cacheDir: cache });
    expect(await modelStore.remote('store-fixture', { ...remote(), cacheDir: cache })).toEqual({
      url,
      cached: true,
    });
  });

  it('mirrors installed packages in the CDN layout, which then serves them as a CDN would', async () => {
    const mirror = mkdtempSync(join(tmpdir(), 'imgcls-mirror-'));
    const pin = MODEL_PACKAGES['cifar10-seedcnn'] as NonNullable<(typeof MODEL_PACKAGES)[string]>;
    expect(await mirrorModelPackages(['cifar10-seedcnn'], mirror)).toEqual([
      join('npm', `${pin.name}@${pin.version}`),
    ]);
    const server = await startCdnServer({
      [`${pin.name}@${pin.version}`]: join(mirror, 'npm', `${pin.name}@${pin.version}`),
    });
    try {
      const pulled = await pullModel('cifar10-seedcnn', {
        remoteHost: server.url,
        cacheDir: cacheDir(),
      });
      expect(pulled.files.map((file) => file.sha256)).toEqual(
        Object.values(pin.files).map((file) => file.sha256),
      );
    } finally {
      await server.close();
    }
    expect((await caught(mirrorModelPackages(['store-fixture'], mirror))).code).toBe(
      'MODEL_NOT_FOUND',
    );
  });

  it('keeps tf.memory().numTensors flat across repeated loads', async () => {
    const cache = cacheDir();
    cpSync(fixture.directory, join(cache, 'copy'), { recursive: true });
    await predictOnes((await modelStore.resolve(join(cache, 'copy'))).handler);
    const before = tf.memory().numTensors;
    for (let run = 0; run < 3; run++)
      await predictOnes((await modelStore.resolve(join(cache, 'copy'))).handler);
    expect(tf.memory().numTensors).toBe(before);
  });
});
