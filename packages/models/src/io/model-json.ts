import type * as tf from '@tensorflow/tfjs-core';
import { ModelLoadError } from '../errors';
import type { FilePin, FilePins } from '../store/pins';

/**
 * Parses the text of a model.json (or metadata.json) with errors that say what arrived: an HTML page
 * (a wrong URL, or a server's error page answered with 200) is named as such rather than as bad JSON.
 *
 * @throws ModelLoadError.
 */
export function parseJsonFile(text: string, where: string): unknown {
  if (/^\s*</.test(text))
    throw new ModelLoadError(
      `${where} is an HTML page, not JSON: the URL is wrong, or the server answered with an error page. Check the address (or remoteHost for a mirror).`,
    );
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelLoadError(`${where} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * A parsed model.json checked for the two fields TF.js needs.
 *
 * @throws ModelLoadError naming `where`.
 */
export function asModelJson(value: unknown, where: string): tf.io.ModelJSON {
  const json = value as tf.io.ModelJSON;
  if (
    typeof json !== 'object' ||
    json === null ||
    !json.modelTopology ||
    !Array.isArray(json.weightsManifest)
  )
    throw new ModelLoadError(
      `${where} is not a TF.js model.json (it needs modelTopology and weightsManifest).`,
    );
  return json;
}

/** Bytes per stored value of a weight: its quantised dtype when quantised, else its dtype. */
const BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/** The bytes a weight occupies in its shard, or undefined for a dtype of unknown size (strings). */
export function expectedWeightBytes(spec: tf.io.WeightsManifestEntry): number | undefined {
  const perValue = BYTES[spec.quantization?.dtype ?? spec.dtype];
  if (perValue === undefined) return undefined;
  return spec.shape.reduce((product, size) => product * size, 1) * perValue;
}

/**
 * Checks that shards hold exactly the bytes their manifest's weights need, so a truncated or foreign
 * shard fails here with a clear message instead of deep inside TF.js.
 *
 * @throws ModelLoadError.
 */
export function checkShardBytes(
  manifest: tf.io.WeightsManifestConfig,
  shardBytes: readonly number[],
  where: string,
): void {
  const sizes = manifest.flatMap((group) => group.weights).map(expectedWeightBytes);
  if (sizes.some((size) => size === undefined)) return;
  const want = (sizes as number[]).reduce((sum, size) => sum + size, 0);
  const have = shardBytes.reduce((sum, size) => sum + size, 0);
  if (want !== have)
    throw new ModelLoadError(
      `The weight files of ${where} hold ${have} bytes, its weights need ${want}: they are truncated or belong to another model. Download it again from a good source.`,
    );
}

/**
 * The pin of one file of a pinned model.
 *
 * @throws ModelLoadError when model.json lists a file the pins do not know: not the pinned model.
 */
export function pinnedFile(files: FilePins, path: string, modelJsonUrl: string): FilePin {
  const pin = files[path];
  if (!pin)
    throw new ModelLoadError(
      `${modelJsonUrl} lists ${path}, which is not among its pinned files (${Object.keys(files).join(', ')}): it is not the model the registry pins.`,
    );
  return pin;
}
