import { normalize, type PreprocessPreset } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainingData } from '../loop';
import { epochOrder } from '../order';
import type { ImageSet } from './image-archive';

/** Train-time augmentation: random crop after reflect padding, and horizontal flips. */
export interface Augmentation {
  /** Pixels of reflect padding before a random crop back to size (CIFAR: 4). */
  readonly cropPadding?: number;
  readonly horizontalFlip?: boolean;
  readonly seed?: number;
}

/**
 * A subset of an {@link ImageSet} as training data: batches are normalised with the model's preset
 * (the same one serving uses) and optionally augmented. Augmentation is seeded by the batch's own
 * indices, so a resumed run draws exactly the crops and flips it would have drawn.
 */
export function imageSetData(
  set: ImageSet,
  indices: readonly number[],
  preset: PreprocessPreset,
  augmentation?: Augmentation,
): TrainingData {
  const stride = set.height * set.width * 3;
  return {
    size: indices.length,
    batch(batchIndices) {
      return tf.tidy(() => {
        const pixels = new Uint8Array(batchIndices.length * stride);
        batchIndices.forEach((position, row) => {
          const source = indices[position] as number;
          pixels.set(set.pixels.subarray(source * stride, (source + 1) * stride), row * stride);
        });
        let images = normalize(
          tf.tensor4d(pixels, [batchIndices.length, set.height, set.width, 3], 'int32'),
          preset,
        ) as tf.Tensor4D;
        if (augmentation) images = augment(images, batchIndices, augmentation);
        const labels = tf.tensor1d(
          batchIndices.map((position) => set.labels[indices[position] as number] as number),
          'int32',
        );
        return { images, labels };
      });
    },
  };
}

function augment(
  images: tf.Tensor4D,
  batchIndices: readonly number[],
  options: Augmentation,
): tf.Tensor4D {
  const [count, height, width] = images.shape as [number, number, number, number];
  // One random draw per image: a permutation seeded by the batch's first index and the seed.
  const draws = epochOrder(
    4096,
    options.seed ?? 0,
    (batchIndices[0] ?? 0) * 131 + batchIndices.length,
  );
  const pad = options.cropPadding ?? 0;
  const padded =
    pad > 0
      ? tf.mirrorPad(
          images,
          [
            [0, 0],
            [pad, pad],
            [pad, pad],
            [0, 0],
          ],
          'reflect',
        )
      : images;
  const crops = Array.from({ length: count }, (_, row) => {
    const draw = draws[row % draws.length] as number;
    const top = pad > 0 ? draw % (2 * pad + 1) : 0;
    const left = pad > 0 ? Math.floor(draw / (2 * pad + 1)) % (2 * pad + 1) : 0;
    let crop = tf.slice(padded, [row, top, left, 0], [1, height, width, 3]) as tf.Tensor4D;
    if (options.horizontalFlip && Math.floor(draw / 128) % 2 === 1) crop = tf.reverse(crop, 2);
    return crop;
  });
  return tf.concat(crops, 0) as tf.Tensor4D;
}

/** A seeded split of `count` example indices into training and validation parts. */
export function splitIndices(
  count: number,
  validationFraction: number,
  seed: number,
): { train: number[]; validation: number[] } {
  const order = Array.from(epochOrder(count, seed, -1));
  const validationSize = Math.round(count * validationFraction);
  return {
    validation: order.slice(0, validationSize).sort((a, b) => a - b),
    train: order.slice(validationSize).sort((a, b) => a - b),
  };
}
