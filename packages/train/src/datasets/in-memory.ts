import { type PreprocessPreset, validateAugmentOptions } from '@imgcls/preprocess';
import type { TrainingData } from '../loop';
import { epochOrder, SPLIT_STREAM } from '../order';
import { type Augmentation, augmentationSettings, pixelBatch } from './batch';
import type { ImageSet } from './image-archive';

/**
 * A subset of an {@link ImageSet} as training data: batches are normalised with the model's preset
 * (the same one serving uses) and optionally augmented with the seeded tensor ops of `@imgcls/preprocess`.
 * Draws are seeded by the training step, so a resumed run draws exactly the augmentation it would have
 * drawn. With mixup or CutMix the labels are class probabilities.
 *
 * @throws InvalidArgumentError for augmentation options out of range.
 */
export function imageSetData(
  set: ImageSet,
  indices: readonly number[],
  preset: PreprocessPreset,
  augmentation?: Augmentation,
): TrainingData {
  if (augmentation) validateAugmentOptions(augmentation);
  const stride = set.height * set.width * 3;
  return {
    size: indices.length,
    settings: { augmentation: augmentationSettings(augmentation) },
    batch(batchIndices, step, epoch) {
      const pixels = new Uint8Array(batchIndices.length * stride);
      const labels = batchIndices.map((position, row) => {
        const source = indices[position] as number;
        pixels.set(set.pixels.subarray(source * stride, (source + 1) * stride), row * stride);
        return set.labels[source] as number;
      });
      return pixelBatch(
        pixels,
        labels,
        [set.height, set.width],
        preset,
        set.classes.length,
        augmentation,
        {
          ...(step !== undefined ? { step } : {}),
          first: batchIndices[0] ?? 0,
          indices: batchIndices,
          epoch: epoch ?? 0,
        },
      );
    },
  };
}

/** A seeded split of `count` example indices into training and validation parts. */
export function splitIndices(
  count: number,
  validationFraction: number,
  seed: number,
): { train: number[]; validation: number[] } {
  const order = Array.from(epochOrder(count, seed, SPLIT_STREAM));
  const validationSize = Math.round(count * validationFraction);
  return {
    validation: order.slice(0, validationSize).sort((a, b) => a - b),
    train: order.slice(validationSize).sort((a, b) => a - b),
  };
}
