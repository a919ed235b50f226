import { ModelLoadError, type ModelMetadata, resolveModel } from '@imgcls/models';
import type * as tf from '@tensorflow/tfjs-core';
import { IS_NODE } from './platform';

/** What loadClassifier accepts: a registry id, an http(s) URL of a model.json, a local path, or an IOHandler. */
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
  /** Cache directory for downloads (Node). */
  readonly cacheDir?: string;
  /** Never download: use the cache or fail (Node). */
  readonly offline?: boolean;
  /** Class names for a `.tflite` model, which carries none (a leading "background" is handled). */
  readonly labels?: readonly string[];
}

function isUrl(reference: string): boolean {
  return /^https?:\/\//i.test(reference);
}

/** Node's file and HTTP-cache loaders, imported only in Node so browser bundles never contain node:fs. */
async function nodeIo() {
  return import('@imgcls/models/node');
}

/**
 * Turns a model reference into an IOHandler plus metadata. Registry ids resolve to their source (hosted
 * URL, or a folder under `IMGCLS_MODELS_DIR`, default `./models`); registry metadata fills in for
 * hosted models that publish none.
 */
export async function resolveSource(
  reference: ModelReference,
  options: SourceOptions = {},
): Promise<ResolvedModel> {
  if (typeof reference !== 'string') return { handler: reference, origin: 'IOHandler' };
  if (/\.tflite$/i.test(reference)) return fromTflite(reference, options);
  if (isUrl(reference)) return fromUrl(reference, options);
  if (/[\\/]/.test(reference) || reference.startsWith('.')) return fromPath(reference);
  let entry: ReturnType<typeof resolveModel>;
  try {
    entry = resolveModel(reference);
  } catch (error) {
    // A bare name that is not registered may still be a folder in the working directory.
    if (IS_NODE && (await import('node:fs')).existsSync(reference)) return fromPath(reference);
    throw error;
  }
  if (!IS_NODE) {
    // Browsers: hosted models from their URL, shipped folders from the page's /models/ path.
    const url =
      entry.source.kind === 'url'
        ? entry.source.url
        : new URL(`/models/${entry.source.directory}/model.json`, globalThis.location?.href).href;
    const resolved = await fromUrl(url, options);
    return {
      ...resolved,
      metadata: resolved.metadata ?? entry.metadata,
      origin: reference,
    } as ResolvedModel;
  }
  const { join, resolve } = await import('node:path');
  const { existsSync } = await import('node:fs');
  const base = process.env.IMGCLS_MODELS_DIR ?? resolve('models');
  if (entry.source.kind === 'url') {
    // A local copy (e.g. made by `imgcls models import`) wins over the hosted one: it works offline.
    if (existsSync(join(base, entry.id, 'model.json')))
      return { ...(await fromPath(join(base, entry.id))), origin: reference };
    const resolved = await fromUrl(entry.source.url, options);
    return {
      ...resolved,
      metadata: resolved.metadata ?? entry.metadata,
      origin: reference,
    } as ResolvedModel;
  }
  const resolved = await fromPath(join(base, entry.source.directory));
  return {
    ...resolved,
    metadata: resolved.metadata ?? entry.metadata,
    origin: reference,
  } as ResolvedModel;
}

async function fromUrl(url: string, options: SourceOptions): Promise<ResolvedModel> {
  if (IS_NODE) {
    const { cachedModel } = await nodeIo();
    const cached = await cachedModel(url, {
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
      ...(options.offline ? { offline: true } : {}),
    });
    return { ...cached, origin: url };
  }
  const tfcore = await import('@tensorflow/tfjs-core');
  const metadataUrl = new URL('metadata.json', url).href;
  const response = await fetch(metadataUrl).catch(() => undefined);
  const { parseModelMetadata } = await import('@imgcls/models');
  const metadata = response?.ok ? parseModelMetadata(await response.json()) : undefined;
  return { handler: tfcore.io.http(url), ...(metadata ? { metadata } : {}), origin: url };
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
    const { readFile } = await import('node:fs/promises');
    const path = isUrl(reference)
      ? await (await nodeIo()).fetchToCache(reference, {
          ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
          ...(options.offline ? { offline: true } : {}),
        })
      : reference;
    bytes = new Uint8Array(
      await readFile(path).catch((error: unknown) => {
        throw new ModelLoadError(`Cannot read ${path}: ${(error as Error).message}`, {
          cause: error,
        });
      }),
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

async function fromPath(path: string): Promise<ResolvedModel> {
  if (!IS_NODE)
    throw new ModelLoadError(`"${path}" is neither a registered model id nor an http(s) URL.`);
  const { stat } = await import('node:fs/promises');
  const { dirname, basename } = await import('node:path');
  const stats = await stat(path).catch(() => undefined);
  if (!stats)
    throw new ModelLoadError(
      `No model at ${path}: expected a folder with model.json, or a registered id.`,
    );
  const directory = stats.isDirectory() ? path : dirname(path);
  if (!stats.isDirectory() && basename(path) !== 'model.json') {
    throw new ModelLoadError(`${path} is not a model.json or a folder holding one.`);
  }
  const { directoryHandler, readMetadata } = await nodeIo();
  const metadata = await readMetadata(directory);
  return {
    handler: directoryHandler(directory),
    ...(metadata ? { metadata } : {}),
    origin: directory,
  };
}
