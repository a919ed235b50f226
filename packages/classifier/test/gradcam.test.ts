import { placement } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  blendHeatmap,
  channelWeights,
  classActivationMap,
  jetColour,
  toHeatmap,
  toOriginal,
} from '../src/gradcam';
import { selectBackend } from '../src/index';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('Grad-CAM math', () => {
  it('weights channels by the spatial mean of their gradients (Grad-CAM)', async () => {
    // 2x2 map, 2 channels: gradients of channel 0 are 1, 2, 3, 6 (mean 3), of channel 1 all -1.
    const gradients = tf.tensor3d([1, -1, 2, -1, 3, -1, 6, -1], [2, 2, 2]);
    const activations = tf.ones([2, 2, 2]) as tf.Tensor3D;
    const weights = channelWeights(activations, gradients, 'grad-cam');
    expect(Array.from(await weights.data())).toEqual([3, -1]);
    tf.dispose([gradients, activations, weights]);
  });

  it("uses Grad-CAM++'s closed-form coefficients", async () => {
    // Channel 0: gradient g = 0.5 everywhere, activations summing to S = 4, so
    // α = g² / (2g² + S·g³) = 0.25 / (0.5 + 0.5) = 0.25 and the weight is 4 · 0.25 · 0.5 = 0.5.
    // Channel 1: negative gradients only, so ReLU(g) = 0 and the weight is 0.
    const gradients = tf.tensor3d([0.5, -2, 0.5, -2, 0.5, -2, 0.5, -2], [2, 2, 2]);
    const activations = tf.ones([2, 2, 2]) as tf.Tensor3D;
    const weights = channelWeights(activations, gradients, 'grad-cam++');
    const values = await weights.data();
    expect(values[0]).toBeCloseTo(0.5, 6);
    expect(values[1]).toBe(0);
    tf.dispose([gradients, activations, weights]);
  });

  it('keeps only positive evidence in the class activation map', async () => {
    // Pixel values per channel: (1, 2), (3, 0), (0, 5), (2, 2); weights (1, -1).
    const activations = tf.tensor3d([1, 2, 3, 0, 0, 5, 2, 2], [2, 2, 2]);
    const cam = classActivationMap(activations, tf.tensor1d([1, -1]));
    expect(Array.from(await cam.data())).toEqual([0, 3, 0, 0]);
    tf.dispose([activations, cam]);
  });

  it('upsamples with half-pixel centres and rescales to [0, 1]', async () => {
    // [0, 2] to width 4: source x = (x + 0.5) / 2 − 0.5 → −0.25, 0.25, 0.75, 1.25 (clamped), so
    // 0, 0.5, 1.5, 2, then divided by the range 2.
    const cam = tf.tensor2d([[0, 2]]);
    const heatmap = toHeatmap(cam, [1, 4]);
    expect(heatmap.shape).toEqual([1, 4]);
    const values = Array.from(await heatmap.data());
    [0, 0.25, 0.75, 1].forEach((value, index) => {
      expect(values[index]).toBeCloseTo(value, 6);
    });
    const flat = toHeatmap(tf.fill([2, 2], 3) as tf.Tensor2D, [4, 4]);
    expect(Array.from(await flat.data())).toEqual(new Array(16).fill(0));
    tf.dispose([cam, heatmap, flat]);
  });

  it('maps a heatmap back onto the original image: letterbox padding dropped, centre-crop margins 0', async () => {
    // A 2x4 image letterboxed into 4x4: rows 1-2 hold the image, rows 0 and 3 are padding.
    const heatmap = tf.tensor2d([0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0], [4, 4]);
    const letterbox = placement(2, 4, { height: 4, width: 4, resize: 'letterbox', range: [0, 1] });
    const unpadded = toOriginal(heatmap, letterbox, [2, 4]);
    expect(Array.from(await unpadded.data())).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // A 2x4 image centre-cropped to 2x2: columns 1-2 were seen, columns 0 and 3 get 0.
    const small = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const crop = placement(2, 4, { height: 2, width: 2, resize: 'center-crop', range: [0, 1] });
    const uncropped = toOriginal(small, crop, [2, 4]);
    expect(Array.from(await uncropped.data())).toEqual([0, 1, 2, 0, 0, 3, 4, 0]);
    // Stretched from 4x2 to 2x2: each input row spans two image rows (bilinear, half-pixel centres).
    const stretch = placement(4, 2, { height: 2, width: 2, resize: 'stretch', range: [0, 1] });
    const stretched = toOriginal(tf.tensor2d([0, 0, 1, 1], [2, 2]), stretch, [4, 2]);
    expect(Array.from(await stretched.data())).toEqual([0, 0, 0.25, 0.25, 0.75, 0.75, 1, 1]);
    tf.dispose([heatmap, unpadded, small, uncropped, stretched]);
  });

  it('maps heat to jet colours: dark blue, green-ish middle, dark red', () => {
    expect(jetColour(0)).toEqual([0, 0, 128]);
    expect(jetColour(0.5)).toEqual([128, 255, 128]);
    expect(jetColour(1)).toEqual([128, 0, 0]);
    expect(jetColour(-3)).toEqual(jetColour(0));
    expect(jetColour(0.25)).toEqual([0, 128, 255]);
  });

  it('blends colours over the image, only inside the region, opaque', () => {
    const pixels = Uint8Array.from([100, 100, 100, 200, 0, 50]);
    const heatmap = Float32Array.from([1, 0]);
    const size = { width: 2, height: 1 };
    expect(Array.from(blendHeatmap(pixels, heatmap, size, 0))).toEqual([
      100, 100, 100, 255, 200, 0, 50, 255,
    ]);
    expect(Array.from(blendHeatmap(pixels, heatmap, size, 1))).toEqual([
      128, 0, 0, 255, 0, 0, 128, 255,
    ]);
    // alpha 0.5: (100 + 128) / 2 = 114, (100 + 0) / 2 = 50; the second pixel is outside the region.
    expect(Array.from(blendHeatmap(pixels, heatmap, size, 0.5, [0, 0, 1, 1]))).toEqual([
      114, 50, 50, 255, 200, 0, 50, 255,
    ]);
  });
});
