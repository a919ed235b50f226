import { InvalidArgumentError } from '@imgcls/preprocess/errors';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { TrainingData } from './loop';
import { epochOrder, WHITENING_STREAM } from './order';

/** Options of {@link patchWhitening}. */
export interface PatchWhiteningOptions {
  /** Side of the square patches, and of the kernel. Default 2. */
  readonly kernelSize?: number;
  /** Added to each eigenvalue before the square root, so near-flat directions are not blown up. Default 5e-4. */
  readonly epsilon?: number;
}

/**
 * A convolution kernel that whitens image patches (Page 2018, airbench): the eigenvectors of the patches'
 * second-moment matrix, each divided by the square root of its eigenvalue, followed by their negations,
 * so a ReLU-like activation after it keeps both signs. For `images` [n, h, w, c] (already normalised the
 * way training feeds them) the kernel is [k, k, c, 2·k²·c], eigenvalues in decreasing order, ready for
 * a 'valid' convolution's `setWeights`. The caller disposes it.
 *
 * @throws InvalidArgumentError when images is not a batch of at least one image with patches of that size.
 */
export function patchWhitening(
  images: tf.Tensor4D,
  options: PatchWhiteningOptions = {},
): tf.Tensor4D {
  const size = options.kernelSize ?? 2;
  const epsilon = options.epsilon ?? 5e-4;
  const [count, height, width, channels] = images.shape;
  if (!Number.isInteger(size) || size < 1 || size > Math.min(height, width) || count < 1)
    throw new InvalidArgumentError(
      `patchWhitening needs images of at least ${size}x${size} pixels and a whole kernelSize ≥ 1, got [${images.shape.join(', ')}] and ${size}.`,
    );
  const pixels = images.dataSync();
  const dimensions = size * size * channels;
  const moments = new Float64Array(dimensions * dimensions);
  const patch = new Float64Array(dimensions);
  let patches = 0;
  for (let image = 0; image < count; image++)
    for (let top = 0; top + size <= height; top++)
      for (let left = 0; left + size <= width; left++) {
        // Patch order (row, column, channel) is the kernel's [k, k, c] order.
        let d = 0;
        for (let row = 0; row < size; row++) {
          const start = ((image * height + top + row) * width + left) * channels;
          for (let value = 0; value < size * channels; value++)
            patch[d++] = pixels[start + value] as number;
        }
        for (let i = 0; i < dimensions; i++) {
          const pi = patch[i] as number;
          for (let j = i; j < dimensions; j++)
            moments[i * dimensions + j] =
              (moments[i * dimensions + j] as number) + pi * (patch[j] as number);
        }
        patches++;
      }
  for (let i = 0; i < dimensions; i++)
    for (let j = i; j < dimensions; j++) {
      const mean = (moments[i * dimensions + j] as number) / patches;
      moments[i * dimensions + j] = mean;
      moments[j * dimensions + i] = mean;
    }
  const { values, vectors } = symmetricEigen(moments, dimensions);
  const order = Array.from(values.keys()).sort(
    (a, b) => (values[b] as number) - (values[a] as number),
  );
  const filters = 2 * dimensions;
  const kernel = new Float32Array(dimensions * filters);
  order.forEach((which, filter) => {
    const scale = 1 / Math.sqrt(Math.max(0, values[which] as number) + epsilon);
    for (let d = 0; d < dimensions; d++) {
      const weight = (vectors[d * dimensions + which] as number) * scale;
      kernel[d * filters + filter] = weight;
      kernel[d * filters + filter + dimensions] = -weight;
    }
  });
  return tf.tensor4d(kernel, [size, size, channels, filters]);
}

/** Options of {@link fitWhitening}. */
export interface FitWhiteningOptions {
  /** How many training images the patch statistics come from. Default 5,000, as airbench. */
  readonly count?: number;
  /** Seed of the random sample of images. Default 0. */
  readonly seed?: number;
}

/**
 * Sets a whitening convolution (airbench's, `WHITENING_LAYER` in `@imgcls/models`) from a seeded random
 * sample of `data`, which must be the training images as the model is fed them but without augmentation;
 * its bias starts at zero. A random sample, not the first images: datasets read from class folders are
 * sorted by class, and the first 5,000 CIFAR-10 images are then all airplanes.
 */
export async function fitWhitening(
  layer: tfl.layers.Layer,
  data: TrainingData,
  options: FitWhiteningOptions = {},
): Promise<void> {
  const count = Math.min(options.count ?? 5000, data.size);
  // Sorted, so a dataset that loads on demand reads its files in order.
  const indices = Array.from(epochOrder(data.size, options.seed ?? 0, WHITENING_STREAM))
    .slice(0, count)
    .sort((a, b) => a - b);
  await data.load?.(indices);
  const { images, labels } = data.batch(indices);
  const size = (layer.getConfig().kernelSize as number[] | number | undefined) ?? 2;
  const kernel = patchWhitening(images, {
    kernelSize: Array.isArray(size) ? (size[0] as number) : size,
  });
  const bias = tf.zeros([kernel.shape[3]]);
  // By name: a frozen kernel comes after the trainable bias in the layer's weight order.
  for (const weight of layer.weights)
    weight.write(weight.originalName.endsWith('/kernel') ? kernel : bias);
  tf.dispose([images, labels, kernel, bias]);
}

/**
 * Eigenvalues and eigenvectors (columns of `vectors`, row-major n×n) of a symmetric matrix by cyclic
 * Jacobi rotations: exact to double precision for the small matrices whitening needs (12×12).
 */
export function symmetricEigen(
  matrix: Float64Array,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) off += (a[p * n + q] as number) ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (apq === 0) continue;
        const theta = ((a[q * n + q] as number) - (a[p * n + p] as number)) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // A ← Jᵀ A J, columns then rows; V ← V J.
          const akp = a[k * n + p] as number;
          const akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] as number;
          const aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p] as number;
          const vkq = v[k * n + q] as number;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i] as number;
  return { values, vectors: v };
}
