import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type DecodedImage,
  PRESETS,
  type PreprocessPreset,
  placement,
  toModelInput,
} from '../src/index';

/** An image whose pixel (row, column) has red = row, green = column, blue = 7. */
function gradient(height: number, width: number): DecodedImage {
  const data = new Uint8Array(height * width * 3);
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++)
      data.set([row, column, 7], (row * width + column) * 3);
  }
  return { data, width, height };
}

const raw = (
  height: number,
  width: number,
  resize: PreprocessPreset['resize'],
): PreprocessPreset => ({ height, width, resize, range: [0, 255] });

describe('placement', () => {
  it('stretches the whole image', () => {
    expect(placement(30, 40, raw(10, 10, 'stretch'))).toEqual({
      crop: [0, 0, 30, 40],
      resized: [10, 10],
      padding: [0, 0, 0, 0],
    });
  });

  it('centre-crops the largest region with the input aspect ratio', () => {
    expect(placement(30, 40, raw(10, 10, 'center-crop')).crop).toEqual([0, 5, 30, 30]);
    expect(placement(40, 20, raw(10, 20, 'center-crop')).crop).toEqual([15, 0, 10, 20]);
  });

  it('letterboxes: fits the longer side and pads the rest evenly', () => {
    expect(placement(20, 40, raw(10, 10, 'letterbox'))).toEqual({
      crop: [0, 0, 20, 40],
      resized: [5, 10],
      padding: [2, 3, 0, 0],
    });
  });
});

describe('toModelInput', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('crops the centre without resizing when the sizes already match', () => {
    const input = toModelInput(gradient(6, 8), raw(6, 6, 'center-crop'));
    expect(input.shape).toEqual([1, 6, 6, 3]);
    const values = input.arraySync()[0] as number[][][];
    expect(values[0]?.[0]).toEqual([0, 1, 7]); // columns 1..6 of the source
    expect(values[5]?.[5]).toEqual([5, 6, 7]);
    input.dispose();
  });

  it('pads letterboxed images with the preset fill colour', () => {
    const input = toModelInput(gradient(2, 4), { ...raw(4, 4, 'letterbox'), fill: [9, 8, 7] });
    const values = input.arraySync()[0] as number[][][];
    expect(values[0]?.[0]).toEqual([9, 8, 7]);
    expect(values[3]?.[3]).toEqual([9, 8, 7]);
    expect(values[1]?.[0]).toEqual([0, 0, 7]);
    input.dispose();
  });

  it('normalises with range, mean and std', () => {
    const white: DecodedImage = { data: new Uint8Array(3 * 4).fill(255), width: 2, height: 2 };
    const input = toModelInput(white, PRESETS.cifar10 as PreprocessPreset);
    const expected = PRESETS.cifar10.mean.map(
      (mean, channel) => (1 - mean) / (PRESETS.cifar10.std[channel] as number),
    );
    const pixel = (input.arraySync()[0] as number[][][])[0]?.[0] as number[];
    pixel.forEach((value, channel) => {
      expect(value).toBeCloseTo(expected[channel] as number, 5);
    });
    const mobilenet = toModelInput(white, PRESETS.mobilenetV2 as PreprocessPreset);
    expect(tf.max(mobilenet).dataSync()[0]).toBeCloseTo(1, 6);
    tf.dispose([input, mobilenet]);
  });

  it('batches several images and leaves no tensors behind over 100 calls', () => {
    const images = [gradient(40, 30), gradient(20, 50)];
    toModelInput(images, PRESETS.mobilenetV2 as PreprocessPreset).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      const batch = toModelInput(images, PRESETS.mobilenetV2 as PreprocessPreset);
      expect(batch.shape).toEqual([2, 224, 224, 3]);
      batch.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
