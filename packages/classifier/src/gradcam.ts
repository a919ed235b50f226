import type { Placement } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';

/**
 * How channel weights are computed from the gradients: `'grad-cam'` averages them over space
 * (Selvaraju et al. 2017); `'grad-cam++'` weights positive gradients by the closed-form coefficients of
 * Chattopadhay et al. 2018, which spreads the map over several instances of a class.
 */
export type CamMethod = 'grad-cam' | 'grad-cam++';

/**
 * Channel weights [channels] from a feature map and the class score's gradient with respect to it, both
 * [height, width, channels].
 */
export function channelWeights(
  activations: tf.Tensor3D,
  gradients: tf.Tensor3D,
  method: CamMethod,
): tf.Tensor1D {
  return tf.tidy(() => {
    if (method === 'grad-cam') return tf.mean(gradients, [0, 1]) as tf.Tensor1D;
    // Grad-CAM++ (with the exponential-score approximation): α = g² / (2g² + Σ_ab A_ab · g³),
    // weight_k = Σ_ij α_ij · ReLU(g_ij); α is 0 where its denominator is 0.
    const squared = tf.square(gradients);
    const cubed = tf.mul(squared, gradients);
    const spatialSum = tf.sum(activations, [0, 1]);
    const denominator = tf.add(tf.mul(squared, 2), tf.mul(spatialSum, cubed));
    const alpha = tf.divNoNan(squared, denominator);
    return tf.sum(tf.mul(alpha, tf.relu(gradients)), [0, 1]) as tf.Tensor1D;
  });
}

/** The class activation map [height, width]: ReLU of the weighted sum of the feature map's channels. */
export function classActivationMap(activations: tf.Tensor3D, weights: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => tf.relu(tf.sum(tf.mul(activations, weights), 2)) as tf.Tensor2D);
}

/**
 * Upsamples a class activation map to `[height, width]` (bilinear, half-pixel centres, as the model's
 * preprocessing resizes) and rescales it to [0, 1] by its minimum and maximum. A constant map (no
 * evidence anywhere) becomes all zeros.
 */
export function toHeatmap(cam: tf.Tensor2D, size: readonly [number, number]): tf.Tensor2D {
  return tf.tidy(() => {
    const [height, width] = cam.shape;
    const resized =
      height === size[0] && width === size[1]
        ? cam
        : tf.squeeze(
            tf.image.resizeBilinear(tf.expandDims(cam, 2) as tf.Tensor3D, [...size], false, true),
            [2],
          );
    const low = tf.min(resized);
    return tf.clipByValue(
      tf.divNoNan(tf.sub(resized, low), tf.sub(tf.max(resized), low)),
      0,
      1,
    ) as tf.Tensor2D;
  });
}

/**
 * Maps a heatmap at the model's input resolution back onto the original image, undoing the preset's
 * resize (`placement` from `@imgcls/preprocess`): letterbox padding is dropped, the rest is resized
 * (bilinear, half-pixel centres) to the source region it came from, and whatever a centre crop cut off
 * gets 0. Returns [imageHeight, imageWidth].
 */
export function toOriginal(
  heatmap: tf.Tensor2D,
  geometry: Placement,
  imageSize: readonly [number, number],
): tf.Tensor2D {
  const { crop, resized, padding } = geometry;
  const [height, width] = imageSize;
  return tf.tidy(() => {
    const content = tf.slice(heatmap, [padding[0], padding[2]], [resized[0], resized[1]]);
    const scaled =
      crop[2] === resized[0] && crop[3] === resized[1]
        ? content
        : tf.squeeze(
            tf.image.resizeBilinear(
              tf.expandDims(content, 2) as tf.Tensor3D,
              [crop[2], crop[3]],
              false,
              true,
            ),
            [2],
          );
    return tf.pad(scaled, [
      [crop[0], height - crop[0] - crop[2]],
      [crop[1], width - crop[1] - crop[3]],
    ]) as tf.Tensor2D;
  });
}

/**
 * The "jet" colour of a heat value in [0, 1] (blue → cyan → yellow → red) as 0..255 RGB: each channel
 * is a clamped tent, `clamp(1.5 − |4v − c|)` with c = 3, 2, 1 for red, green, blue.
 */
export function jetColour(value: number): [number, number, number] {
  const v = Math.max(0, Math.min(1, value));
  const tent = (centre: number) =>
    Math.round(255 * Math.max(0, Math.min(1, 1.5 - Math.abs(4 * v - centre))));
  return [tent(3), tent(2), tent(1)];
}

/** A rectangle in pixels: top, left, height, width. */
export type Region = readonly [number, number, number, number];

/**
 * Blends a heatmap's jet colours over an RGB image of the same size: `(1 − alpha) · pixel + alpha ·
 * colour`, opaque RGBA out. Only pixels inside `region` (default: everywhere) are tinted; the rest
 * keep their own colour (used for parts of an image the model never saw).
 *
 * @param pixels - RGB bytes, row-major, `width · height · 3` long.
 * @param heatmap - Values in [0, 1], row-major, `width · height` long.
 */
export function blendHeatmap(
  pixels: Uint8Array | Uint8ClampedArray,
  heatmap: Float32Array,
  size: { readonly width: number; readonly height: number },
  alpha: number,
  region: Region = [0, 0, size.height, size.width],
): Uint8ClampedArray {
  const { width, height } = size;
  const [top, left, regionHeight, regionWidth] = region;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const inRows = y >= top && y < top + regionHeight;
    for (let x = 0; x < width; x++) {
      const pixel = y * width + x;
      const tinted = inRows && x >= left && x < left + regionWidth;
      const colour = tinted ? jetColour(heatmap[pixel] as number) : undefined;
      for (let channel = 0; channel < 3; channel++) {
        const value = pixels[pixel * 3 + channel] as number;
        rgba[pixel * 4 + channel] = colour
          ? (1 - alpha) * value + alpha * (colour[channel] as number)
          : value;
      }
      rgba[pixel * 4 + 3] = 255;
    }
  }
  return rgba;
}
