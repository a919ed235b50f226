import {
  type AugmentOptions,
  augmentBatch,
  drawAugmentation,
  fitBatchToInput,
  hashSeed,
  normalize,
  type PreprocessPreset,
  seededRandom,
} from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainingBatch } from '../loop';

/** Train-time augmentation (see `AugmentOptions` of `@imgcls/preprocess`) and the seed of its draws. */
export interface Augmentation extends AugmentOptions {
  readonly seed?: number;
}

/**
 * Fits one batch of pixels to the preset's input size (when it differs), normalises and optionally
 * augments it: the one path shared by in-memory and streaming datasets. Draws come from a generator seeded by (seed, step, first index, batch size), so a
 * batch is reproducible from its arguments alone.
 */
export function pixelBatch(
  pixels: Uint8Array | Float32Array,
  labels: readonly number[],
  shape: readonly [number, number],
  preset: PreprocessPreset,
  numClasses: number,
  augmentation: Augmentation | undefined,
  key: {
    readonly step?: number;
    readonly first: number;
    /** The examples' dataset indices and the epoch, for alternating flips. */
    readonly indices: readonly number[];
    readonly epoch: number;
  },
): TrainingBatch {
  const count = labels.length;
  const sameSize = shape[0] === preset.height && shape[1] === preset.width;
  return tf.tidy(() => {
    const stored = tf.tensor4d(
      pixels,
      [count, shape[0], shape[1], 3],
      pixels instanceof Uint8Array && sameSize ? 'int32' : 'float32',
    );
    // Images of another size than the model's input are fitted to it as serving fits one image.
    const images = sameSize ? stored : fitBatchToInput(stored, preset);
    const labelTensor = tf.tensor1d([...labels], 'int32');
    if (!augmentation)
      return { images: normalize(images, preset) as tf.Tensor4D, labels: labelTensor };
    const random = seededRandom(hashSeed(augmentation.seed ?? 0, key.step ?? -1, key.first, count));
    const draws = drawAugmentation(count, preset.height, preset.width, augmentation, random, {
      indices: key.indices,
      epoch: key.epoch,
      seed: augmentation.seed ?? 0,
    });
    return augmentBatch(images, labelTensor, {
      preset,
      numClasses,
      options: augmentation,
      draws,
    });
  });
}

/** The augmentation as recorded in checkpoints: only the options that are on, in a fixed order. */
export function augmentationSettings(augmentation: Augmentation | undefined): object | null {
  if (!augmentation) return null;
  const names = [
    'cropPadding',
    'horizontalFlip',
    'cutout',
    'brightness',
    'contrast',
    'saturation',
    'mixup',
    'cutmix',
    'seed',
  ] as const;
  return Object.fromEntries(
    names.filter((name) => augmentation[name]).map((name) => [name, augmentation[name]]),
  );
}
