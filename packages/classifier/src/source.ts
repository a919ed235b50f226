import {
  ModelLoadError,
  type ModelMetadata,
  type RegisteredModel,
  resolveModel,
  UnknownModelError,
} from '@imgcls/models';
import type * as tf from '@tensorflow/tfjs-core';
import { IS_NODE } from './platform';

/** What loadClassifier accepts: a registry id, an http(s) URL of a model.json or .tflite, a local path, or an IOHandler. */
export type ModelReference = string | tf.io.IOHandler;

/** A model's bytes, ready for tfjs' loaders, and the metadata found with them. */
export interface ResolvedModel {
  readonly handler: tf.io.IOHandler;
  readonly metadata?: ModelMetadata;
  /** Where it came from, for info(): id, URL or path. */
  readonly origin: string;
}

/** Options that affect where model bytes come from. */
export interface SourceOptions {
  /** Cache directory for downloads (Node; browsers keep downloads in Cache Storage). */
  readonly cacheDir?: string;
  /** Never download: use the cache (Node: the cache directory; browsers: Cache Storage) or fail. */
  readonly offline?: boolean;
  /** Class names for a `.tflite` model, which carries none (a leading "background" is handled). */
  readonly labels?: readonly string[];
}

const isUrl = (reference: string) => /^https?:\/\//i.test(reference);

/**
 * Node's file and download-cache helpers. In browser bundles the exports map gives a stand-in with the
 * same names, so no Node module is ever bundled; this code only calls them when running in Node.
 */
const nodeIo = () => import('@imgcls/models/node');

function cacheOptions(options: SourceOptions) {
  return {
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.offline ? { offline: true } : {}),
  };
}

/**
 * Turns a model reference into an IOHandler plus metadata. Registry ids resolve to their source: in
 * Node a local copy under `IMGCLS_MODELS_DIR` (default `./models`) wins over a hosted URL, so imported
 * models work offline; in browsers shipped folders are fetched from the page's `/models/` path.
 * Registry metadata fills in for hosted models that publish none.
 */
export async function resolveSource(
  reference: ModelReference,
  options: SourceOptions = {},
): Promise<ResolvedModel> {
  if (typeof reference !== 'string') return { handler: reference, origin: 'IOHandler' };
  if (/\.tflite$/i.test(reference)) return fromTflite(reference, options);
  if (isUrl(reference)) return fromUrl(reference, options);
  if (/[\\/]/.test(reference) || reference.startsWith('.')) return fromPath(reference);
  let entry: RegisteredModel;
  try {
    entry = resolveModel(reference);
  } catch (error) {
    // A bare name that is not registered may still be a folder in the working directory.
    if (IS_NODE && error instanceof UnknownModelError && (await nodeIo()).pathExists(reference))
      return fromPath(reference);
    throw error;
  }
  const withEntry = (resolved: ResolvedModel): ResolvedModel => {
    const metadata = resolved.metadata ?? entry.metadata;
    return { handler: resolved.handler, origin: reference, ...(metadata ? { metadata } : {}) };
  };
  if (!IS_NODE) {
    // A copy served by the page under /models/<id>/ (e.g. an imported model) wins over a hosted URL.
    const served = (name: string) =>
      new URL(`/models/${name}/model.json`, globalThis.location?.href).href;
    if (entry.source.kind === 'directory')
      return withEntry(await fromUrl(served(entry.source.directory), options));
    const servedUrl = served(entry.id);
    // A copy the page serves wins, unless offline: then only the cached hosted model may be used.
    const local =
      !options.offline &&
      (await fetch(servedUrl, { method: 'HEAD' }).then(
        (response) => response.ok,
        () => false,
      ));
    return withEntry(
      local
        ? await fromUrl(servedUrl, options)
        : await fromUrl(entry.source.url, options, entry.source.sha256),
    );
  }
  const io = await nodeIo();
  if (entry.source.kind === 'url') {
    const local = io.localModel(entry.id);
    return withEntry(
      local ? await fromPath(local) : await fromUrl(entry.source.url, options, entry.source.sha256),
    );
  }
  return withEntry(await fromPath(`${io.localModelsDir()}/${entry.source.directory}`));
}

/**
 * A model.json URL through the download cache: Node's cache directory; in browsers, Cache Storage for
 * models from other origins (hosted downloads; the page's own files stay with the HTTP cache, so a
 * redeployed model is never served stale). `sha256` pins model.json when the registry knows it.
 */
async function fromUrl(
  url: string,
  options: SourceOptions,
  sha256?: string,
): Promise<ResolvedModel> {
  const pinned = sha256 ? { sha256 } : {};
  if (IS_NODE)
    return {
      ...(await (await nodeIo()).cachedModel(url, { ...cacheOptions(options), ...pinned })),
      origin: url,
    };
  const models = await import('@imgcls/models');
  if (useBrowserCache(url, models.hasBrowserCache())) {
    const cached = await models.browserCachedModel(url, {
      ...pinned,
      ...(options.offline ? { offline: true } : {}),
    });
    return { ...cached, origin: url };
  }
  const tfcore = await import('@tensorflow/tfjs-core');
  const { parseModelMetadata } = models;
  const modelJson = await fetch(url, { method: 'HEAD' }).catch((error: unknown) => {
    throw new ModelLoadError(`Cannot reach ${url}: ${(error as Error).message}`, { cause: error });
  });
  if (!modelJson.ok) throw new ModelLoadError(`No model at ${url} (HTTP ${modelJson.status}).`);
  const response = await fetch(new URL('metadata.json', url).href).catch(() => undefined);
  const metadata = response?.ok ? parseModelMetadata(await response.json()) : undefined;
  return { handler: tfcore.io.http(url), ...(metadata ? { metadata } : {}), origin: url };
}

/** Whether a browser keeps `url` in Cache Storage: when it has one and the URL is on another origin. */
function useBrowserCache(url: string, available: boolean): boolean {
  const page = globalThis.location?.href;
  return available && (!page || new URL(url, page).origin !== new URL(page).origin);
}

async function fromPath(path: string): Promise<ResolvedModel> {
  if (!IS_NODE)
    throw new ModelLoadError(`"${path}" is neither a registered model id nor an http(s) URL.`);
  const io = await nodeIo();
  const directory = await io.modelDirectory(path);
  const metadata = await io.readMetadata(directory);
  return {
    handler: io.directoryHandler(directory),
    ...(metadata ? { metadata } : {}),
    origin: directory,
  };
}

/** Imports a TFLite model (file or URL) and hands its converted weights to TF.js from memory. */
async function fromTflite(reference: string, options: SourceOptions): Promise<ResolvedModel> {
  if (!options.labels) {
    throw new ModelLoadError(
      `${reference} carries no labels: pass { labels } (e.g. the lines of its labels.txt) to loadClassifier.`,
    );
  }
  let bytes: Uint8Array;
  if (IS_NODE) {
    bytes = await (await nodeIo()).readBytes(reference, cacheOptions(options));
  } else if (useBrowserCache(reference, (await import('@imgcls/models')).hasBrowserCache())) {
    const { fetchToBrowserCache } = await import('@imgcls/models');
    bytes = new Uint8Array(
      await fetchToBrowserCache(reference, options.offline ? { offline: true } : {}),
    );
  } else {
    const response = await fetch(reference);
    if (!response.ok) throw new ModelLoadError(`${reference} answered HTTP ${response.status}.`);
    bytes = new Uint8Array(await response.arrayBuffer());
  }
  const { importTflite, tfliteMetadata } = await import('@imgcls/models');
  const imported = importTflite(bytes);
  const id =
    reference
      .split(/[\\/]/)
      .pop()
      ?.replace(/\.tflite$/i, '') ?? 'tflite';
  const metadata = tfliteMetadata(imported, { id, labels: options.labels, source: reference });
  const tfcore = await import('@tensorflow/tfjs-core');
  let artifacts: tf.io.ModelArtifacts | undefined;
  await imported.model.save(
    tfcore.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  imported.model.dispose();
  return {
    handler: tfcore.io.fromMemory(artifacts as tf.io.ModelArtifacts),
    metadata,
    origin: reference,
  };
}
