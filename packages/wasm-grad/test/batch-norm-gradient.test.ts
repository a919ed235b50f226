import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmGradients } from '../src/index';
import { maxErrors, randomValues } from './backends';

// The FusedBatchNorm gradient registered by registerWasmGradients, against the gradient of the same
// formula written out in elementary ops (whose gradients are tfjs-core's own).
describe('FusedBatchNorm gradient', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerWasmGradients();
  });

  const cases: Array<{ x: number[]; stats: number[] }> = [
    { x: [4, 5, 6, 3], stats: [3] }, // per-channel statistics, as tf.layers.batchNormalization uses
    { x: [2, 3, 3, 5], stats: [1, 1, 1, 5] },
    { x: [3, 7], stats: [7] },
  ];

  for (const { x: xShape, stats } of cases) {
    it(`matches the elementary-op gradient for x ${xShape} and statistics ${stats}`, () => {
      const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(randomValues(size(xShape), 1), xShape);
      const mean = tf.tensor(randomValues(size(stats), 2), stats);
      const variance = tf.add(tf.abs(tf.tensor(randomValues(size(stats), 3), stats)), 0.1);
      const offset = tf.tensor(randomValues(size(stats), 4), stats);
      const scale = tf.tensor(randomValues(size(stats), 5), stats);
      const upstream = tf.tensor(randomValues(size(xShape), 6), xShape);
      const epsilon = 1e-3;
      const fused = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) =>
        tf.sum(tf.mul(tf.batchNorm(a, m, v, o, s, epsilon), upstream));
      const elementary = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.add(tf.mul(tf.mul(tf.sub(a, m), tf.rsqrt(tf.add(v, epsilon))), s), o),
            upstream,
          ),
        );
      const inputs = [x, mean, variance, offset, scale];
      const actual = tf.grads(fused)(inputs);
      const expected = tf.grads(elementary)(inputs);
      for (const [index, name] of ['x', 'mean', 'variance', 'offset', 'scale'].entries()) {
        const errors = maxErrors(
          actual[index]?.dataSync() as Float32Array,
          expected[index]?.dataSync() as Float32Array,
        );
        expect(errors.relative, `d/d${name}`).toBeLessThan(1e-5);
      }
      tf.dispose([...inputs, upstream, ...actual, ...expected]);
    });
  }
});
