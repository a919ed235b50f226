import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ModelLoadError } from '../errors';
import { METADATA_FILE, type ModelMetadata, parseModelMetadata } from '../metadata';
import type { FilePins } from '../store/pins';
import { unlessAbsent } from './errors';
import { type FetchToCacheOptions, fetchToCache } from './fetch-to-cache';
import { asModelJson, checkShardBytes, parseJsonFile, pinnedFile } from './model-json';

/** The weight file name {@link directoryHandler} writes (one shard). */
const WEIGHTS_FILE = 'weights.bin';

function joinBuffers(weightData: tf.io.WeightData): ArrayBuffer {
  const parts = Array.isArray(weightData) ? weightData : [weightData];
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(new Uint8Array(part), offset);
    offset += part.byteLength;
  }
  return joined.buffer;
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ModelLoadError(`Cannot read ${what} at ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseJsonFile(text, path);
}

/** Artefacts from a parsed model.json whose weight paths resolve through `readShard`. */
async function artifactsFrom(
  modelJson: unknown,
  where: string,
  readShard: (path: string) => Promise<ArrayBuffer>,
): Promise<tf.io.ModelArtifacts> {
  return tf.io.getModelArtifactsForJSON(asModelJson(modelJson, where), async (manifest) => {
    const specs = manifest.flatMap((group) => group.weights);
    const shards = await Promise.all(manifest.flatMap((group) => group.paths).map(readShard));
    checkShardBytes(
      manifest,
      shards.map((shard) => shard.byteLength),
      where,
    );
    return [specs, joinBuffers(shards)];
  });
}

/**
 * A TF.js IOHandler over a directory holding `model.json` and its weight shards (Node). `load` reads
 * any TF.js layers or graph model; `save` writes `model.json` + `weights.bin` through temporary files
 * and renames, so an interrupted save never leaves a half-written model.
 */
export function directoryHandler(directory: string): tf.io.IOHandler {
  return {
    load: async () => {
      const modelJsonPath = join(directory, 'model.json');
      return artifactsFrom(
        await readJson(modelJsonPath, 'model.json'),
        modelJsonPath,
        async (path) => {
          try {
            const bytes = await readFile(join(directory, path));
            return bytes.buffer.slice(
              bytes.byteOffset,
              bytes.byteOffset + bytes.byteLength,
            ) as ArrayBuffer;
          } catch (error) {
            throw new ModelLoadError(
              `Weight file ${path} of ${modelJsonPath} is missing or unreadable.`,
              { cause: error },
            );
          }
        },
      );
    },
    save: async (artifacts) => {
      await mkdir(directory, { recursive: true });
      const weights = artifacts.weightData ? joinBuffers(artifacts.weightData) : new ArrayBuffer(0);
      const manifest: tf.io.WeightsManifestConfig = [
        { paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] },
      ];
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
        weightsManifest: manifest,
        ...(artifacts.format ? { format: artifacts.format } : {}),
        ...(artifacts.generatedBy ? { generatedBy: artifacts.generatedBy } : {}),
        ...(artifacts.convertedBy ? { convertedBy: artifacts.convertedBy } : {}),
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.signature ? { signature: artifacts.signature } : {}),
        ...(artifacts.userDefinedMetadata
          ? { userDefinedMetadata: artifacts.userDefinedMetadata }
          : {}),
      };
      await writeAtomically(join(directory, WEIGHTS_FILE), new Uint8Array(weights));
      await writeAtomically(join(directory, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/** Writes a file through a temporary sibling and a rename: readers see the old or the new file, never a part. */
export async function writeAtomically(path: string, contents: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, contents);
    await rename(temporary, path);
  } finally {
    await rm(temporary, { force: true });
  }
}

/** Reads and validates `metadata.json` from a model directory, or undefined when there is none. */
export async function readMetadata(directory: string): Promise<ModelMetadata | undefined> {
  const path = join(directory, METADATA_FILE);
  const raw = await readFile(path, 'utf8').catch(() => undefined);
  if (raw === undefined) return undefined;
  try {
    return parseModelMetadata(JSON.parse(raw));
  } catch (error) {
    if (error instanceof SyntaxError)
      throw new ModelLoadError(`${path} is not valid JSON: ${error.message}`, { cause: error });
    throw error;
  }
}

/** Writes `metadata.json` into a model directory (atomically). */
export async function writeMetadata(directory: string, metadata: ModelMetadata): Promise<void> {
  await writeAtomically(
    join(directory, METADATA_FILE),
    `${JSON.stringify(parseModelMetadata(metadata), null, 2)}\n`,
  );
}

/** A model fetched over http(s) into the cache: its IOHandler and its metadata, if published beside it. */
export interface CachedModel {
  readonly handler: tf.io.IOHandler;
  readonly metadata?: ModelMetadata;
}

/** Options of {@link cachedModel}: those of the download cache, and the pins of the model's files. */
export interface CachedModelOptions extends FetchToCacheOptions {
  /**
   * SHA-256 (and size) of each file by its path relative to model.json (`model.json`, the shards,
   * `metadata.json`): every file fetched must be pinned and match. Without it, `sha256` pins model.json.
   */
  readonly files?: FilePins;
  /** Bytes downloaded so far over all of the model's files, of their pinned total (else undefined). */
  readonly onProgress?: (loaded: number, total: number | undefined) => void;
}

/**
 * Downloads a TF.js model (model.json, its shards, and metadata.json when present) into the cache
 * once, then loads it from there; `offline` serves only from the cache. A file that turns out not to
 * be what it claims (an HTML page, a truncated shard) is removed from the cache before the error, so
 * the next load from a good source succeeds.
 *
 * @throws DownloadError, OfflineError, ChecksumMismatchError, ModelLoadError.
 */
export async function cachedModel(
  modelJsonUrl: string,
  options: CachedModelOptions = {},
): Promise<CachedModel> {
  const { files, ...cacheOptions } = options;
  const unpinned = { ...cacheOptions, sha256: undefined, md5: undefined };
  const pinned = (path: string) =>
    files ? { ...cacheOptions, sha256: pinnedFile(files, path, modelJsonUrl).sha256 } : unpinned;
  const progress = modelProgress(options, files);
  const fetchFile = (path: string) => {
    const url = new URL(path, modelJsonUrl).href;
    return fetchToCache(url, { ...pinned(path), ...progress(url) });
  };
  const modelJsonPath = await fetchToCache(modelJsonUrl, {
    ...(files ? pinned('model.json') : cacheOptions),
    ...progress(modelJsonUrl),
  });
  const modelJson = await evictUnless(modelJsonPath, async () =>
    asModelJson(await readJson(modelJsonPath, 'model.json'), modelJsonUrl),
  );
  const shardPaths = modelJson.weightsManifest.flatMap((group) => group.paths);
  const handler: tf.io.IOHandler = {
    load: async () => {
      const cached = await Promise.all(shardPaths.map(fetchFile));
      return evictUnless(cached, () =>
        artifactsFrom(modelJson, modelJsonUrl, async (path) => {
          const bytes = await readFile(cached[shardPaths.indexOf(path)] as string);
          return bytes.buffer.slice(
            bytes.byteOffset,
            bytes.byteOffset + bytes.byteLength,
          ) as ArrayBuffer;
        }),
      );
    },
  };
  // metadata.json is optional beside a hosted model: absent (404) or not cached offline means none;
  // a pinned one is part of the model, and its absence an error.
  const metadataPath = await (files?.[METADATA_FILE]
    ? fetchFile(METADATA_FILE)
    : unlessAbsent(fetchFile(METADATA_FILE)));
  if (!metadataPath) return { handler };
  const metadata = await evictUnless(metadataPath, async () =>
    parseModelMetadata(await readJson(metadataPath, METADATA_FILE)),
  );
  return { handler, metadata };
}

/**
 * Per-file progress options that report the whole model's bytes to `onProgress`: loaded over all files,
 * of the pinned total (unknown without pins).
 */
function modelProgress(options: CachedModelOptions, files: FilePins | undefined) {
  const report = options.onProgress;
  if (!report) return () => ({});
  const pinnedTotal = files
    ? Object.values(files).reduce((sum, pin) => sum + (pin.bytes ?? 0), 0)
    : undefined;
  const loadedByUrl = new Map<string, number>();
  return (url: string) => ({
    onProgress: (loaded: number) => {
      loadedByUrl.set(url, loaded);
      report(
        [...loadedByUrl.values()].reduce((sum, bytes) => sum + bytes, 0),
        pinnedTotal,
      );
    },
  });
}

/** Runs `check`; when it fails, the cached files it read are deleted so they are fetched afresh next time. */
async function evictUnless<T>(
  paths: string | readonly string[],
  check: () => Promise<T>,
): Promise<T> {
  try {
    return await check();
  } catch (error) {
    await Promise.all([paths].flat().map((path) => rm(path, { force: true })));
    throw error;
  }
}
