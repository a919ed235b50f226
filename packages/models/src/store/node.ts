import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { ModelNotFoundError, ModelPackageVersionError } from '../errors';
import { cachedModel, directoryHandler, readMetadata } from '../io/directory';
import { ChecksumMismatchError } from '../io/errors';
import { cachePathFor, defaultCacheDir, hashFile } from '../io/fetch-to-cache';
import { modelDirectory, readBytes } from '../io/local';
import { METADATA_FILE } from '../metadata';
import { resolveModel } from '../registry';
import type { ModelPackagePin } from './pins';
import type { ModelStoreOptions, ModelStoreSettings } from './settings';
import { createModelStore, platformSettings, remoteOf, type StorePlatform } from './store';

const cacheOptions = (settings: ModelStoreSettings) => ({
  cacheDir: settings.cacheDir ?? defaultCacheDir(),
  offline: settings.offline,
});

/**
 * The folder of an installed model package, found by module resolution from this package (never the
 * working directory), after checking that it is the pinned version and that its files match their pins.
 */
async function installedPackage(pin: ModelPackagePin): Promise<string | undefined> {
  let manifestPath: string;
  try {
    manifestPath = createRequire(import.meta.url).resolve(`${pin.name}/package.json`);
  } catch {
    return undefined;
  }
  const { version } = JSON.parse(await readFile(manifestPath, 'utf8')) as { version: string };
  if (version !== pin.version) throw new ModelPackageVersionError(pin.name, version, pin.version);
  const directory = dirname(manifestPath);
  for (const [file, expected] of Object.entries(pin.files)) {
    const path = join(directory, file);
    const actual = existsSync(path) ? (await hashFile(path)).sha256 : 'missing';
    if (actual !== expected.sha256)
      throw new ChecksumMismatchError(
        path,
        'sha256',
        expected.sha256,
        actual,
        `The installed ${pin.name}@${pin.version} was modified or damaged: reinstall it (npm install ${pin.name}@${pin.version}).`,
      );
  }
  return directory;
}

const nodePlatform: StorePlatform = {
  environment: () => ({
    modelsFolder: process.env.IMGCLS_MODELS_DIR || undefined,
    cacheDir: process.env.IMGCLS_CACHE_DIR || undefined,
  }),
  join,
  pathLocation: (path) => path,
  hasModel: async (folder) => existsSync(join(folder, 'model.json')),
  loadFolder: async (location) => {
    const directory = await modelDirectory(location);
    const metadata = await readMetadata(directory);
    return { handler: directoryHandler(directory), ...(metadata ? { metadata } : {}) };
  },
  installedPackage: (entry) => installedPackage(entry.source.package),
  isCached: async (modelJsonUrl, settings, files) => {
    const { cacheDir } = cacheOptions(settings);
    const urls = files
      ? Object.keys(files).map((file) => new URL(file, modelJsonUrl).href)
      : [modelJsonUrl];
    const present = await Promise.all(
      urls.map((url) =>
        stat(cachePathFor(url, cacheDir)).then(
          (stats) => stats.isFile(),
          () => false,
        ),
      ),
    );
    return present.every(Boolean);
  },
  loadUrl: (modelJsonUrl, settings, files) =>
    cachedModel(modelJsonUrl, { ...cacheOptions(settings), ...(files ? { files } : {}) }),
  readBytes: (pathOrUrl, settings) => readBytes(pathOrUrl, cacheOptions(settings)),
  notFoundHint: (entry) =>
    entry.source.kind === 'package'
      ? `Install it (npm install ${entry.source.package.name}@${entry.source.package.version}), or allow downloads, or fill the cache while online (imgcls models pull ${entry.id}).`
      : `Allow downloads, fill the cache while online (imgcls models pull ${entry.id}), or put a copy in a models folder (modelsFolder).`,
};

/**
 * The model store in Node: a caller's folder or URL; the configured models folder; the installed model
 * package; the pinned package on the npm CDN (or mirror), downloaded once into the cache folder.
 */
export const modelStore = createModelStore(nodePlatform);

/** One file of a model in the download cache. */
export interface PulledFile {
  readonly url: string;
  /** Where the cache keeps it. */
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** What {@link pullModel} put in the cache. */
export interface PulledModel {
  /** The model.json URL the files came from (the CDN or mirror for a model package). */
  readonly url: string;
  readonly cacheDir: string;
  /** model.json, its shards and metadata.json when published, each verified against its pin if any. */
  readonly files: readonly PulledFile[];
  /** Whether the registry pins every file (model packages) or model.json only, or nothing. */
  readonly pinned: 'every file' | 'model.json' | 'nothing';
}

/** Options of {@link pullModel}. */
export interface PullOptions extends ModelStoreOptions {
  /** Bytes downloaded so far over the model's files, of their pinned total (undefined when unknown). */
  readonly onProgress?: (loaded: number, total: number | undefined) => void;
}

/**
 * Fills the download cache with a model's remote copy (a registry id's pinned package on the CDN or
 * mirror, its hosted URL, or any model.json URL), verifying every pinned file, so later loads work
 * offline. Files already cached are verified, not downloaded again.
 *
 * @throws UnknownModelError, DownloadError, ChecksumMismatchError, OfflineError, ModelLoadError.
 */
export async function pullModel(
  reference: string,
  options: PullOptions = {},
): Promise<PulledModel> {
  const { onProgress, ...overrides } = options;
  const settings = platformSettings(nodePlatform, overrides);
  const remote = /^https?:\/\//i.test(reference)
    ? { url: reference, files: undefined }
    : remoteOf(resolveModel(reference), settings);
  const { cacheDir, offline } = cacheOptions(settings);
  const model = await cachedModel(remote.url, {
    cacheDir,
    offline,
    ...(remote.files ? { files: remote.files } : {}),
    ...(onProgress ? { onProgress } : {}),
  });
  // Loading the weights fetches every shard into the cache.
  await model.handler.load?.();
  const { weightsManifest } = JSON.parse(
    await readFile(cachePathFor(remote.url, cacheDir), 'utf8'),
  ) as tf.io.ModelJSON;
  const relativePaths = [
    'model.json',
    ...weightsManifest.flatMap((group) => group.paths),
    ...(model.metadata ? [METADATA_FILE] : []),
  ];
  const files = await Promise.all(
    relativePaths.map(async (relative) => {
      const url = relative === 'model.json' ? remote.url : new URL(relative, remote.url).href;
      const path = cachePathFor(url, cacheDir);
      const { size } = await stat(path);
      // A pinned file was just checked against its pin by the cache: hash only the unpinned ones.
      const sha256 = remote.files?.[relative]?.sha256 ?? (await hashFile(path)).sha256;
      return { url, path, bytes: size, sha256 };
    }),
  );
  const pinnedFiles = Object.keys(remote.files ?? {}).length;
  const pinned = pinnedFiles === 0 ? 'nothing' : pinnedFiles === 1 ? 'model.json' : 'every file';
  return { url: remote.url, cacheDir, files, pinned };
}

/**
 * Lays the installed model packages of the given registry ids out under `directory` in the CDN's URL
 * layout (`<directory>/npm/<name>@<version>/<file>`, only the pinned files, each verified), so a web
 * server can act as the mirror that `remoteHost` names: what an offline or self-hosted app serves.
 *
 * @returns the package folders written, relative to `directory`.
 * @throws UnknownModelError, ModelNotFoundError (a package that is not installed), ModelPackageVersionError, ChecksumMismatchError.
 */
export async function mirrorModelPackages(
  ids: readonly string[],
  directory: string,
): Promise<string[]> {
  const written: string[] = [];
  for (const id of ids) {
    const entry = resolveModel(id);
    if (entry.source.kind !== 'package')
      throw new ModelNotFoundError(
        id,
        ['it is a hosted model, not a model package'],
        'Mirror model packages only.',
      );
    const pin = entry.source.package;
    const installed = await installedPackage(pin);
    if (!installed)
      throw new ModelNotFoundError(
        id,
        [`${pin.name} is not installed`],
        nodePlatform.notFoundHint(entry),
      );
    const target = join(directory, 'npm', `${pin.name}@${pin.version}`);
    await mkdir(target, { recursive: true });
    for (const file of Object.keys(pin.files))
      await copyFile(join(installed, file), join(target, file));
    written.push(join('npm', `${pin.name}@${pin.version}`));
  }
  return written;
}
