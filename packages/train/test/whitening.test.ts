import { ImgclsError } from '@imgcls/preprocess';
import '@tensorflow/tfjs-backend-wasm';
import { airbench, WHITENING_LAYER } from '@imgcls/models';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fitWhitening, imageSetData, patchWhitening } from '../src/index';
import { symmetricEigen } from '../src/whitening';

describe('symmetricEigen', () => {
  it('gives orthonormal eigenvectors that rebuild the matrix', () => {
    const n = 5;
    const matrix = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        const value = Math.sin(i * 3.1 + j * 1.7) + (i === j ? 3 : 0);
        matrix[i * n + j] = value;
        matrix[j * n + i] = value;
      }
    const { values, vectors } = symmetricEigen(matrix, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let rebuilt = 0;
        let dot = 0;
        for (let k = 0; k < n; k++) {
          rebuilt +=
            (vectors[i * n + k] as number) * (values[k] as number) * (vectors[j * n + k] as number);
          dot += (vectors[k * n + i] as number) * (vectors[k * n + j] as number);
        }
        expect(rebuilt).toBeCloseTo(matrix[i * n + j] as number, 10);
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 10);
      }
  });
});

describe('patchWhitening', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('makes the patches of its images uncorrelated with unit variance, then their negations', () => {
    // Correlated channels and neighbouring pixels, like real images.
    const images = tf.tidy(() => {
      const base = tf.randomNormal([6, 9, 9, 1], 0, 1, 'float32', 7);
      const blurred = tf.add(
        base,
        tf.pad(tf.slice(base, [0, 1, 0, 0], [6, 8, 9, 1]), [
          [0, 0],
          [0, 1],
          [0, 0],
          [0, 0],
        ]),
      );
      const noise = tf.randomNormal([6, 9, 9, 3], 0, 0.3, 'float32', 8);
      return tf.add(tf.mul(blurred, tf.tensor1d([1, 0.8, -0.5])), noise) as tf.Tensor4D;
    });
    const kernel = patchWhitening(images, { epsilon: 0 });
    expect(kernel.shape).toEqual([2, 2, 3, 24]);
    const moments = tf.tidy(() => {
      const whitened = tf.reshape(tf.conv2d(images, kernel, 1, 'valid'), [-1, 24]);
      const positive = tf.slice(whitened, [0, 0], [-1, 12]);
      const negative = tf.slice(whitened, [0, 12], [-1, 12]);
      expect(tf.max(tf.abs(tf.add(positive, negative))).dataSync()[0]).toBe(0);
      return tf.div(tf.matMul(positive, positive, true, false), positive.shape[0]);
    });
    const values = moments.arraySync() as number[][];
    values.forEach((row, i) => {
      row.forEach((value, j) => {
        expect(value).toBeCloseTo(i === j ? 1 : 0, 3);
      });
    });
    tf.dispose([images, kernel, moments]);
  });

  it('rejects a kernel larger than the images', () => {
    const images = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    let caught: unknown;
    try {
      patchWhitening(images, { kernelSize: 3 });
    } catch (error) {
      caught = error;
    }
    expect(ImgclsError.isInstance(caught, 'INVALID_ARGUMENT')).toBe(true);
    images.dispose();
  });

  it('fitWhitening sets the frozen kernel from a seeded sample spread over a class-sorted dataset', async () => {
    const model = airbench({ widths: [8, 8, 8], seed: 1 });
    const layer = model.getLayer(WHITENING_LAYER);
    // 40 images sorted by class, as class folders are read: the first 10 are all class 0.
    const size = 40;
    const pixels = Uint8Array.from({ length: size * 16 * 16 * 3 }, (_, i) => (i * 37) % 251);
    const labels = Uint8Array.from({ length: size }, (_, i) => Math.floor(i / 10));
    const set = {
      count: size,
      height: 16,
      width: 16,
      pixels,
      labels,
      classes: ['a', 'b', 'c', 'd'],
    };
    const preset = { height: 16, width: 16, resize: 'stretch', range: [0, 1] } as const;
    const images = imageSetData(
      set,
      Array.from({ length: size }, (_, i) => i),
      preset,
    );
    // A view of the data that records which images fitWhitening asks for.
    const recorded = () => {
      const loads: number[][] = [];
      const data = {
        size,
        batch: images.batch,
        load: async (indices: readonly number[]) => void loads.push([...indices]),
      };
      return { data, loads };
    };
    const first = recorded();
    await fitWhitening(layer, first.data, { count: 10, seed: 7 });
    const [indices] = first.loads as [number[]];
    expect(indices).toHaveLength(10);
    expect(new Set(indices).size).toBe(10);
    expect(new Set(indices.map((index) => labels[index])).size).toBeGreaterThan(1);

    const { images: chosen, labels: chosenLabels } = images.batch(indices);
    const expected = patchWhitening(chosen);
    const weightOf = (suffix: string) =>
      layer.weights.find((weight) => weight.originalName.endsWith(suffix))?.read() as tf.Tensor;
    expect(Array.from(weightOf('/kernel').dataSync())).toEqual(Array.from(expected.dataSync()));
    expect(Array.from(weightOf('/bias').dataSync())).toEqual(new Array(24).fill(0));

    const again = recorded();
    await fitWhitening(layer, again.data, { count: 10, seed: 7 });
    expect(again.loads[0]).toEqual(indices);
    const other = recorded();
    await fitWhitening(layer, other.data, { count: 10, seed: 8 });
    expect(other.loads[0]).not.toEqual(indices);
    tf.dispose([chosen, chosenLabels, expected]);
    model.dispose();
  });
});
