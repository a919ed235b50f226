import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { ModelLoadError } from '../errors';
import type { ModelMetadata } from '../metadata';
import {
  type QuantizedArtifacts,
  type QuantizeOptions,
  quantizeArtifacts,
  type WeightQuantization,
} from '../quantization/artifacts';
import { quantizedMetadata } from '../quantization/metadata';
import { directoryHandler, writeMetadata } from './directory';
import { hashFile } from './fetch-to-cache';

/** Bytes a model folder's model.json and the weight files it lists take on disk. */
export interface ModelSize {
  readonly modelJsonBytes: number;
  readonly weightBytes: number;
  readonly totalBytes: number;
}

/**
 * Sizes of a model folder's model.json and of the weight shards its manifest lists (other files,
 * such as metadata.json or a model card, are not counted).
 *
 * @throws ModelLoadError when model.json or a listed shard is missing.
 */
export async function modelSizeOnDisk(directory: string): Promise<ModelSize> {
  const modelJsonPath = join(directory, 'model.json');
  const size = (path: string) =>
    stat(path).then(
      (stats) => stats.size,
      (error: unknown) => {
        throw new ModelLoadError(`Cannot read ${path}: ${(error as Error).message}`, {
          cause: error,
        });
      },
    );
  const modelJsonBytes = await size(modelJsonPath);
  const modelJson = JSON.parse(await readFile(modelJsonPath, 'utf8')) as tf.io.ModelJSON;
  const shards = (modelJson.weightsManifest ?? []).flatMap((group) => group.paths);
  const weightBytes = (
    await Promise.all(shards.map((shard) => size(join(directory, shard))))
  ).reduce((sum, bytes) => sum + bytes, 0);
  return { modelJsonBytes, weightBytes, totalBytes: modelJsonBytes + weightBytes };
}

/** What {@link saveQuantizedModel} wrote. */
export interface SavedQuantizedModel extends Omit<QuantizedArtifacts, 'artifacts'> {
  readonly directory: string;
  /** The metadata written beside it; undefined when the source had none (then none is written). */
  readonly metadata?: ModelMetadata;
  readonly sizeOnDisk: ModelSize;
}

/**
 * Loads a model through `source.handler`, quantises its float32 weights ({@link quantizeArtifacts};
 * `options.maxChannelSpread` as there, `options.id` names the new model)
 * and writes the quantised model into `directory` (model.json + weights.bin, atomically), with a
 * metadata.json derived from `source.metadata` ({@link quantizedMetadata}, plus the new weights'
 * SHA-256). TF.js' loaders and `loadClassifier` read the folder like any other model.
 *
 * @throws ModelLoadError when the source cannot be loaded; QuantizationError (see quantizeArtifacts).
 */
export async function saveQuantizedModel(
  source: { readonly handler: tf.io.IOHandler; readonly metadata?: ModelMetadata },
  directory: string,
  dtype: WeightQuantization,
  options: QuantizeOptions & { readonly id?: string } = {},
): Promise<SavedQuantizedModel> {
  const { handler } = source;
  if (!handler.load)
    throw new ModelLoadError('The model source cannot be read (its IOHandler has no load).');
  const { artifacts, ...summary } = quantizeArtifacts(await handler.load(), dtype, options);
  await directoryHandler(directory).save?.(artifacts);
  const sizeOnDisk = await modelSizeOnDisk(directory);
  if (!source.metadata) return { ...summary, directory, sizeOnDisk };
  const metadata: ModelMetadata = {
    ...quantizedMetadata(source.metadata, summary, options.id),
    weightsSha256: (await hashFile(join(directory, 'weights.bin'))).sha256,
  };
  await writeMetadata(directory, metadata);
  return { ...summary, directory, metadata, sizeOnDisk };
}
