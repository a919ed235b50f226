import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { slice, type WasmBackendLike } from '../src/wasm-kernels';
import { randomValues, valuesOn } from './backends';

describe('slice (the kernels’ own, run by run)', () => {
  const cases: Array<{ shape: number[]; begin: number[]; size: number[] }> = [
    { shape: [7], begin: [2], size: [4] },
    { shape: [5, 6], begin: [1, 0], size: [3, 6] }, // whole last axis: the kept rows are one run
    { shape: [6, 4, 5, 3], begin: [2, 0, 0, 0], size: [3, 4, 5, 3] }, // leading axis only: one run
    { shape: [3, 9, 8, 4], begin: [0, 1, 2, 0], size: [3, 7, 5, 4] }, // spatial crop, whole channels
    { shape: [2, 5, 6, 7], begin: [1, 1, 0, 2], size: [1, 3, 6, 4] }, // partial last axis
    { shape: [2, 3, 4, 5, 6], begin: [0, 1, 1, 0, 0], size: [2, 2, 3, 5, 6] },
    { shape: [4, 4], begin: [0, 0], size: [4, 4] }, // everything
    { shape: [3, 5], begin: [1, 2], size: [0, 2] }, // empty
  ];
  for (const { shape, begin, size } of cases) {
    for (const dtype of ['float32', 'int32'] as const) {
      it(`${dtype} [${shape}] from [${begin}] size [${size}] matches tf.slice on cpu`, async () => {
        const count = shape.reduce((a, b) => a * b, 1);
        const input = () =>
          tf.tensor(
            randomValues(count, 3).map((value) => Math.round(value * 100)),
            shape,
            dtype,
          );
        const expected = await valuesOn('cpu', () => tf.slice(input(), begin, size));
        const actual = await valuesOn('wasm', () => {
          const x = input();
          const info = slice(tf.backend() as WasmBackendLike, x, begin, size);
          return tf.engine().makeTensorFromTensorInfo(info);
        });
        expect(Array.from(actual)).toEqual(Array.from(expected));
      });
    }
  }
});
