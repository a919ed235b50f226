import * as tf from '@tensorflow/tfjs-core';
import { ModelLoadError, ModelNotFoundError, UnknownModelError } from '../errors';
import type { ModelMetadata } from '../metadata';
import { modelFolderName, type RegisteredModel, resolveModel } from '../registry';
import { importTflite, tfliteMetadata } from '../tflite/index';
import type { FilePins } from './pins';
import {
  effectiveSettings,
  type ModelStoreOptions,
  type ModelStoreSettings,
  packageFileUrl,
} from './settings';

/**
 * Which source served a model: an IOHandler, a path or URL the caller gave, the configured models
 * folder, the installed model package (Node), or the pinned package on the CDN or mirror (downloaded
 * into the cache once, then served from it).
 */
export type ModelSourceKind = 'handler' | 'path' | 'url' | 'models-folder' | 'package' | 'cdn';

/** Where a registry id would load from now, without loading it. */
export interface ModelLocation {
  readonly source: ModelSourceKind;
  /** A folder (Node path, or a URL in browsers) or the URL of a model.json. */
  readonly location: string;
  /** For downloads (`cdn`, `url`): whether every pinned file (else model.json) is already cached. */
  readonly cached?: boolean;
}

/** A model's bytes, ready for TF.js' loaders, with the metadata found with them and where they came from. */
export interface ResolvedModel {
  readonly handler: tf.io.IOHandler;
  readonly metadata?: ModelMetadata;
  /** The folder or URL (or `IOHandler`) the model came from. */
  readonly origin: string;
  readonly source: ModelSourceKind;
}

/** What `resolve` accepts: a registry id, an http(s) URL of a model.json or `.tflite`, a path, or an IOHandler. */
export type ModelReference = string | tf.io.IOHandler;

/** Options of {@link ModelStore.resolve}: the settings to override, and labels for a `.tflite` file. */
export interface ResolveOptions extends ModelStoreOptions {
  /** Class names for a `.tflite` model, which carries none (a leading "background" is handled). */
  readonly labels?: readonly string[];
}

/** The one interface of the Node and the browser model store (chosen by the `exports` map). */
export interface ModelStore {
  /**
   * Where a registry id would load from now, following the documented order: the models folder, the
   * installed package (Node), the CDN or hosted URL (cached or not).
   *
   * @throws UnknownModelError, ModelNotFoundError, ModelPackageVersionError, InvalidArgumentError.
   */
  locate(id: string, options?: ModelStoreOptions): Promise<ModelLocation>;
  /**
   * The remote copy of a registry id (its pinned package on the CDN or mirror, or its hosted URL) and
   * whether the download cache holds all of it, wherever the id would load from now.
   *
   * @throws UnknownModelError, InvalidArgumentError.
   */
  remote(id: string, options?: ModelStoreOptions): Promise<{ url: string; cached: boolean }>;
  /**
   * A model's IOHandler and metadata from a registry id, URL, path or IOHandler; downloads are
   * checked against their pins and cached.
   *
   * @throws ModelLoadError, ModelNotFoundError, ModelPackageVersionError, UnknownModelError,
   *   DownloadError, OfflineError, ChecksumMismatchError, InvalidArgumentError.
   */
  resolve(reference: ModelReference, options?: ResolveOptions): Promise<ResolvedModel>;
}

/** A model's handler and the metadata published beside it. */
export interface LoadedFiles {
  readonly handler: tf.io.IOHandler;
  readonly metadata?: ModelMetadata;
}

/** What differs between Node and browsers: how folders, packages, downloads and the cache are reached. */
export interface StorePlatform {
  /** Defaults this platform takes from its environment for settings left unset (Node: environment variables). */
  environment(): Pick<ModelStoreOptions, 'modelsFolder' | 'cacheDir'>;
  /** Folder inside a models folder. */
  join(base: string, name: string): string;
  /** A caller's path as this platform addresses it (Node: as given; browsers: a URL against the page). */
  pathLocation(path: string): string;
  /** Whether a folder holds a model.json. */
  hasModel(folder: string): Promise<boolean>;
  /** A folder (or its model.json) read as is, with its metadata.json when present. */
  loadFolder(location: string): Promise<LoadedFiles>;
  /** The installed package's folder after checking its version and files, or undefined (never in browsers). */
  installedPackage(
    entry: RegisteredModel & { source: { kind: 'package' } },
  ): Promise<string | undefined>;
  /** Whether every pinned file (else the model.json) of a download is in the cache. */
  isCached(modelJsonUrl: string, settings: ModelStoreSettings, files?: FilePins): Promise<boolean>;
  /** A model.json URL through the download cache, each file checked against `files` when given. */
  loadUrl(
    modelJsonUrl: string,
    settings: ModelStoreSettings,
    files?: FilePins,
  ): Promise<LoadedFiles>;
  /** The bytes of a `.tflite` file or URL (downloads cached). */
  readBytes(pathOrUrl: string, settings: ModelStoreSettings): Promise<Uint8Array>;
  /** What a user of this platform does when an id is found nowhere. */
  notFoundHint(entry: RegisteredModel): string;
}

const isUrl = (reference: string) => /^https?:\/\//i.test(reference);
const isPath = (reference: string) => /[\\/]/.test(reference) || reference.startsWith('.');

/** The settings in force for one call: per-call options, then modelSettings, then the platform's environment. */
export function platformSettings(
  platform: Pick<StorePlatform, 'environment'>,
  options: ModelStoreOptions = {},
): ModelStoreSettings {
  const settings = effectiveSettings(options);
  const environment = platform.environment();
  return {
    ...settings,
    modelsFolder: settings.modelsFolder ?? environment.modelsFolder,
    cacheDir: settings.cacheDir ?? environment.cacheDir,
  };
}

/** The remote copy of a registry entry: its package on the CDN (all files pinned) or its hosted URL. */
export function remoteOf(entry: RegisteredModel, settings: ModelStoreSettings) {
  if (entry.source.kind === 'package') {
    const pin = entry.source.package;
    return {
      url: packageFileUrl(settings, pin, 'model.json'),
      files: pin.files,
      kind: 'cdn' as const,
    };
  }
  const { url, sha256 } = entry.source;
  const files: FilePins | undefined = sha256 ? { 'model.json': { sha256 } } : undefined;
  return { url, files, kind: 'url' as const };
}

/** Where a registry entry loads from, in the documented order: models folder, installed package, remote. */
async function locateEntry(
  platform: StorePlatform,
  entry: RegisteredModel,
  settings: ModelStoreSettings,
): Promise<ModelLocation> {
  const tried: string[] = [];
  if (settings.modelsFolder) {
    const folder = platform.join(settings.modelsFolder, modelFolderName(entry));
    if (await platform.hasModel(folder)) return { source: 'models-folder', location: folder };
    tried.push(`the models folder has no ${folder}`);
  }
  if (entry.source.kind === 'package') {
    const directory = await platform.installedPackage(
      entry as RegisteredModel & { source: { kind: 'package' } },
    );
    if (directory) return { source: 'package', location: directory };
    tried.push(`${entry.source.package.name} is not installed`);
  }
  if (!settings.allowRemote) tried.push('downloads are off (allowRemote: false)');
  else {
    const remote = remoteOf(entry, settings);
    const cached = await platform.isCached(remote.url, settings, remote.files);
    if (cached || !settings.offline) return { source: remote.kind, location: remote.url, cached };
    tried.push(`${remote.url} is not in the download cache and offline mode is on`);
  }
  throw new ModelNotFoundError(entry.id, tried, platform.notFoundHint(entry));
}

/** The registry entry of an id; a bare name that is a folder here gets told how to load the folder. */
async function entryOf(platform: StorePlatform, id: string): Promise<RegisteredModel> {
  try {
    return resolveModel(id);
  } catch (error) {
    if (error instanceof UnknownModelError && (await platform.hasModel(platform.pathLocation(id))))
      throw new UnknownModelError(
        id,
        error.known,
        `Bare names are registry ids only; to load the model folder "${id}", pass "./${id}".`,
      );
    throw error;
  }
}

/** A registry id's model from wherever {@link locateEntry} finds it, with the registry's metadata as fallback. */
async function resolveEntry(
  platform: StorePlatform,
  id: string,
  settings: ModelStoreSettings,
): Promise<ResolvedModel> {
  const entry = await entryOf(platform, id);
  const location = await locateEntry(platform, entry, settings);
  const loaded =
    location.source === 'cdn' || location.source === 'url'
      ? await platform.loadUrl(location.location, settings, remoteOf(entry, settings).files)
      : await platform.loadFolder(location.location);
  const metadata = loaded.metadata ?? entry.metadata;
  return {
    handler: loaded.handler,
    origin: location.location,
    source: location.source,
    ...(metadata ? { metadata } : {}),
  };
}

/** Any reference: an IOHandler, a `.tflite` file or URL, a model.json URL, a path, or a registry id. */
async function resolveReference(
  platform: StorePlatform,
  reference: ModelReference,
  options: ResolveOptions,
): Promise<ResolvedModel> {
  if (typeof reference !== 'string')
    return { handler: reference, origin: 'IOHandler', source: 'handler' };
  const { labels, ...overrides } = options;
  const settings = platformSettings(platform, overrides);
  if (/\.tflite$/i.test(reference)) {
    const source = isUrl(reference) ? 'url' : 'path';
    const location = source === 'url' ? reference : platform.pathLocation(reference);
    const bytes = await platform.readBytes(location, settings);
    return { ...(await fromTflite(bytes, reference, labels)), origin: reference, source };
  }
  if (isUrl(reference))
    return { ...(await platform.loadUrl(reference, settings)), origin: reference, source: 'url' };
  if (isPath(reference)) {
    const location = platform.pathLocation(reference);
    return { ...(await platform.loadFolder(location)), origin: location, source: 'path' };
  }
  return resolveEntry(platform, reference, settings);
}

/** The model store over one platform: the resolution order lives in the functions above, once. */
export function createModelStore(platform: StorePlatform): ModelStore {
  return {
    locate: async (id, options) =>
      locateEntry(platform, resolveModel(id), platformSettings(platform, options)),
    remote: async (id, options) => {
      const settings = platformSettings(platform, options);
      const { url, files } = remoteOf(resolveModel(id), settings);
      return { url, cached: await platform.isCached(url, settings, files) };
    },
    resolve: (reference, options = {}) => resolveReference(platform, reference, options),
  };
}

/** A TFLite model converted to TF.js layers and handed over from memory, with metadata from its labels. */
async function fromTflite(
  bytes: Uint8Array,
  reference: string,
  labels: readonly string[] | undefined,
): Promise<LoadedFiles> {
  if (!labels)
    throw new ModelLoadError(
      `${reference} carries no labels: pass { labels } (e.g. the lines of its labels.txt) to loadClassifier.`,
    );
  const imported = importTflite(bytes);
  const id =
    reference
      .split(/[\\/]/)
      .pop()
      ?.replace(/\.tflite$/i, '') ?? 'tflite';
  const metadata = tfliteMetadata(imported, { id, labels, source: reference });
  let artifacts: tf.io.ModelArtifacts | undefined;
  try {
    await imported.model.save(
      tf.io.withSaveHandler(async (saved) => {
        artifacts = saved;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  } finally {
    imported.model.dispose();
  }
  return { handler: tf.io.fromMemory(artifacts as tf.io.ModelArtifacts), metadata };
}
