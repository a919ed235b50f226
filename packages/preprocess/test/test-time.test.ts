import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ImgclsError,
  predictWithViews,
  type TestTimeAugmentation,
  testTimeViews,
} from '../src/index';

/** One 3x3 single-channel image holding 0…8 row by row. */
const image = () => tf.tensor4d([0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 3, 3, 1]);
const rows = (view: tf.Tensor) => (tf.reshape(view, [3, 3]) as tf.Tensor2D).arraySync();

describe('test-time augmentation', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('flip: the image and its mirror, half the weight each', () => {
    const input = image();
    const views = testTimeViews(input, 'flip');
    expect(views.map((view) => view.weight)).toEqual([0.5, 0.5]);
    expect(views[0]?.images).toBe(input);
    expect(rows(views[1]?.images as tf.Tensor)).toEqual([
      [2, 1, 0],
      [5, 4, 3],
      [8, 7, 6],
    ]);
    tf.dispose([input, ...views.map((view) => view.images)]);
  });

  it('flip-translate: the mirrored pair, then each 1-pixel shift (reflect padding) and its mirror', () => {
    const input = image();
    const views = testTimeViews(input, 'flip-translate');
    expect(views.map((view) => view.weight)).toEqual([0.25, 0.25, 0.125, 0.125, 0.125, 0.125]);
    // Shifted down-right by one pixel: the reflected first row and column come in at the top and left.
    expect(rows(views[2]?.images as tf.Tensor)).toEqual([
      [4, 3, 4],
      [1, 0, 1],
      [4, 3, 4],
    ]);
    expect(rows(views[3]?.images as tf.Tensor)).toEqual([
      [4, 3, 4],
      [1, 0, 1],
      [4, 3, 4],
    ]);
    expect(rows(views[4]?.images as tf.Tensor)).toEqual([
      [4, 5, 4],
      [7, 8, 7],
      [4, 5, 4],
    ]);
    tf.dispose([input, ...views.map((view) => view.images)]);
  });

  it('averages predictions with those weights, leaking no tensors', () => {
    const input = image();
    // A "model" whose output is the top-left pixel: the average is the views' weighted top-left pixels.
    const corner = (batch: tf.Tensor4D) =>
      tf.reshape(tf.slice(batch, [0, 0, 0, 0], [-1, 1, 1, 1]), [-1, 1]);
    const before = tf.memory().numTensors;
    const flip = predictWithViews(input, 'flip', corner);
    const both = predictWithViews(input, 'flip-translate', corner);
    expect(flip.dataSync()[0]).toBeCloseTo(0.5 * 0 + 0.5 * 2, 6);
    expect(both.dataSync()[0]).toBeCloseTo(0.25 * 0 + 0.25 * 2 + 0.125 * (4 + 4 + 4 + 4), 6);
    tf.dispose([flip, both]);
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
  });

  it('rejects an unknown mode with a typed error', () => {
    const input = image();
    expect(() => testTimeViews(input, 'rotate' as TestTimeAugmentation)).toThrow(/flip-translate/);
    try {
      testTimeViews(input, 'rotate' as TestTimeAugmentation);
    } catch (error) {
      expect(ImgclsError.isInstance(error, 'INVALID_ARGUMENT')).toBe(true);
    }
    input.dispose();
  });
});
