import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from './errors';

/**
 * Test-time augmentation: predictions averaged over several views of each image. `flip`: the image
 * and its mirror, equally weighted. `flip-translate` (airbench's level 2): those two with half the
 * weight, and the mirrored pair of each of two 1-pixel translations (up-left, down-right, reflect
 * padding) with the other half.
 */
export type TestTimeAugmentation = 'flip' | 'flip-translate';

/** The modes of {@link TestTimeAugmentation}, for validating untrusted input. */
export const TEST_TIME_AUGMENTATIONS: readonly TestTimeAugmentation[] = ['flip', 'flip-translate'];

/** One view of a batch and the weight of its predictions in the average. */
export interface TestTimeView {
  readonly images: tf.Tensor4D;
  readonly weight: number;
}

/**
 * The views `mode` averages over, for a batch [n, h, w, c] (already preprocessed for the model); the
 * weights sum to 1. The first view is `images` itself; the caller disposes the others (or runs this
 * inside `tf.tidy`).
 *
 * @throws InvalidArgumentError for an unknown mode.
 */
export function testTimeViews(images: tf.Tensor4D, mode: TestTimeAugmentation): TestTimeView[] {
  if (!TEST_TIME_AUGMENTATIONS.includes(mode))
    throw new InvalidArgumentError(
      `test-time augmentation must be one of ${TEST_TIME_AUGMENTATIONS.join(', ')}, got "${mode}".`,
    );
  const mirrored = (batch: tf.Tensor4D) => tf.reverse(batch, 2);
  if (mode === 'flip')
    return [
      { images, weight: 0.5 },
      { images: mirrored(images), weight: 0.5 },
    ];
  const [, height, width] = images.shape;
  const padded = tf.mirrorPad(
    images,
    [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
    'reflect',
  );
  const upLeft = tf.slice(padded, [0, 0, 0, 0], [-1, height, width, -1]);
  const downRight = tf.slice(padded, [0, 2, 2, 0], [-1, height, width, -1]);
  padded.dispose();
  return [
    { images, weight: 0.25 },
    { images: mirrored(images), weight: 0.25 },
    { images: upLeft, weight: 0.125 },
    { images: mirrored(upLeft), weight: 0.125 },
    { images: downRight, weight: 0.125 },
    { images: mirrored(downRight), weight: 0.125 },
  ];
}

/**
 * The weighted average of `predict` over the views of `images` (see {@link testTimeViews}), disposing
 * every intermediate tensor. `predict` maps a batch to [n, classes] probabilities.
 */
export function predictWithViews(
  images: tf.Tensor4D,
  mode: TestTimeAugmentation,
  predict: (batch: tf.Tensor4D) => tf.Tensor,
): tf.Tensor {
  return tf.tidy(() =>
    testTimeViews(images, mode)
      .map(({ images: view, weight }) => tf.mul(predict(view), weight))
      .reduce((sum, term) => tf.add(sum, term)),
  );
}
