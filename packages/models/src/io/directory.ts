import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ModelLoadError } from '../errors';
import { METADATA_FILE, type ModelMetadata, parseModelMetadata } from '../metadata';
import { unlessAbsent } from './errors';
import { type FetchToCacheOptions, fetchToCache } from './fetch-to-cache';

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
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelLoadError(`${path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Artefacts from a parsed model.json whose weight paths resolve through `readShard`. */
async function artifactsFrom(
  modelJson: unknown,
  where: string,
  readShard: (path: string) => Promise<ArrayBuffer>,
): Promise<tf.io.ModelArtifacts> {
  const json = modelJson as tf.io.ModelJSON;
  if (
    typeof json !== 'object' ||
    json === null ||
    !json.modelTopology ||
    !Array.isArray(json.weightsManifest)
  ) {
    throw new ModelLoadError(
      `${where} is not a TF.js model.json (it needs modelTopology and weightsManifest).`,
    );
  }
  return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs = manifest.flatMap((group) => group.weights);
    const shards = await Promise.all(manifest.flatMap((group) => group.paths).map(readShard));
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

/**
 * Downloads a TF.js model (model.json, its shards, and metadata.json when present) into the cache
 * once, then loads it from there; `offline` serves only from the cache. `sha256` pins model.json.
 */
export async function cachedModel(
  modelJsonUrl: string,
  options: FetchToCacheOptions = {},
): Promise<CachedModel> {
  const modelJsonPath = await fetchToCache(modelJsonUrl, options);
  const modelJson = await readJson(modelJsonPath, 'model.json');
  const shardOptions: FetchToCacheOptions = { ...options, sha256: undefined, md5: undefined };
  const handler: tf.io.IOHandler = {
    load: () =>
      artifactsFrom(modelJson, modelJsonUrl, async (path) => {
        const bytes = await readFile(
          await fetchToCache(new URL(path, modelJsonUrl).href, shardOptions),
        );
        return bytes.buffer.slice(
          bytes.byteOffset,
          bytes.byteOffset + bytes.byteLength,
        ) as ArrayBuffer;
      }),
  };
  // metadata.json is optional beside a hosted model: absent (404) or not cached offline means none.
  const metadataPath = await unlessAbsent(
    fetchToCache(new URL(METADATA_FILE, modelJsonUrl).href, shardOptions),
  );
  const metadata = metadataPath
    ? parseModelMetadata(await readJson(metadataPath, METADATA_FILE))
    : undefined;
  return metadata ? { handler, metadata } : { handler };
}
