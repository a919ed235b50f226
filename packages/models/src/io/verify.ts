import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { METADATA_FILE, parseModelMetadata } from '../metadata';
import { expectedWeightBytes } from './model-json';

/** One check of {@link verifyModelDirectory}: what was checked, whether it passed, and why not. */
export interface ModelCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The outcome of {@link verifyModelDirectory}. */
export interface ModelVerification {
  readonly directory: string;
  /** True when every check passed. */
  readonly ok: boolean;
  readonly checks: readonly ModelCheck[];
  /** SHA-256 of the weight shards as found on disk, when they could all be read. */
  readonly weightsSha256?: string;
}

/**
 * SHA-256 (hex) of a model folder's weight shards concatenated in `weightsManifest` order: the value
 * `metadata.json` records as `weightsSha256`.
 */
export async function weightsSha256(directory: string): Promise<string> {
  const modelJson = JSON.parse(
    await readFile(join(directory, 'model.json'), 'utf8'),
  ) as tf.io.ModelJSON;
  const hash = createHash('sha256');
  for (const path of modelJson.weightsManifest.flatMap((group) => group.paths))
    for await (const chunk of createReadStream(join(directory, path))) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Checks a model folder against itself: model.json is a TF.js model, every weight shard it lists is
 * there with the byte count its weight specs add up to, metadata.json is valid, and the shards' SHA-256
 * equals `weightsSha256` when metadata records one. Never throws for a broken model: the checks say
 * what is wrong.
 */
export async function verifyModelDirectory(directory: string): Promise<ModelVerification> {
  const checks: ModelCheck[] = [];
  const check = (name: string, ok: boolean, detail: string): void => {
    checks.push({ name, ok, detail });
  };
  let modelJson: tf.io.ModelJSON | undefined;
  try {
    const parsed = JSON.parse(
      await readFile(join(directory, 'model.json'), 'utf8'),
    ) as tf.io.ModelJSON;
    if (!parsed.modelTopology || !Array.isArray(parsed.weightsManifest))
      check(
        'model.json',
        false,
        'not a TF.js model.json: modelTopology or weightsManifest is missing',
      );
    else {
      modelJson = parsed;
      check(
        'model.json',
        true,
        `${parsed.format ?? 'layers-model'}, ${parsed.weightsManifest.flatMap((group) => group.weights).length} weights`,
      );
    }
  } catch (error) {
    check('model.json', false, (error as Error).message);
  }
  let shardsReadable = false;
  if (modelJson) {
    const paths = modelJson.weightsManifest.flatMap((group) => group.paths);
    const sizes = await Promise.all(
      paths.map((path) =>
        stat(join(directory, path)).then(
          (stats) => stats.size,
          () => undefined,
        ),
      ),
    );
    paths.forEach((path, index) => {
      check(
        path,
        sizes[index] !== undefined,
        sizes[index] === undefined ? 'missing' : `${sizes[index]} bytes`,
      );
    });
    shardsReadable = sizes.every((size) => size !== undefined);
    const expected = modelJson.weightsManifest
      .flatMap((group) => group.weights)
      .map(expectedWeightBytes);
    if (shardsReadable && expected.every((bytes) => bytes !== undefined)) {
      const want = (expected as number[]).reduce((sum, bytes) => sum + bytes, 0);
      const have = (sizes as number[]).reduce((sum, bytes) => sum + bytes, 0);
      check(
        'weight sizes',
        want === have,
        want === have
          ? `${have} bytes, as the weight specs say`
          : `the shards hold ${have} bytes, the weight specs need ${want}: truncated or from another model`,
      );
    }
  }
  let recorded: string | undefined;
  try {
    const metadata = parseModelMetadata(
      JSON.parse(await readFile(join(directory, METADATA_FILE), 'utf8')),
    );
    recorded = metadata.weightsSha256;
    check(METADATA_FILE, true, `${metadata.id}, ${metadata.labels.length} labels`);
  } catch (error) {
    check(METADATA_FILE, false, (error as Error).message);
  }
  const actual = shardsReadable ? await weightsSha256(directory) : undefined;
  if (actual !== undefined)
    check(
      'weightsSha256',
      recorded === undefined || recorded === actual,
      recorded === undefined
        ? `not recorded in metadata.json (the weights hash to ${actual})`
        : recorded === actual
          ? `matches ${actual}`
          : `metadata.json records ${recorded}, the weights hash to ${actual}: they were changed or corrupted`,
    );
  return {
    directory,
    ok: checks.every((entry) => entry.ok),
    checks,
    ...(actual !== undefined ? { weightsSha256: actual } : {}),
  };
}
