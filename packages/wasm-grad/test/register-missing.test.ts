import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { registerMissingGradients, registerWasmGradients } from '../src/index';
import { maxErrors, randomValues, valuesOn } from './backends';

// Its own file (a fresh process under vitest's forks pool): registerWasmGradients must not have run yet.
const FORWARD_KERNELS = [
  'Conv2D',
  'FusedConv2D',
  'Sum',
  'Mean',
  'BatchMatMul',
  'Identity',
  'Equal',
];

function kernelFuncs(names: readonly string[]) {
  return names.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc);
}

describe('registerMissingGradients', () => {
  it('does nothing on a backend that has its own gradient kernels', async () => {
    await tf.setBackend('cpu');
    expect(registerMissingGradients()).toEqual({ added: [], replaced: [], alreadyRegistered: [] });
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
  });

  it('adds only the kernels wasm lacks and leaves its forward kernels and the gradients alone', async () => {
    await tf.setBackend('wasm');
    const forwardBefore = kernelFuncs(FORWARD_KERNELS);
    const inputGradientBefore = tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc;
    const batchNormGradient = tf.getGradient('FusedBatchNorm');
    const report = registerMissingGradients();
    expect([...report.added].sort()).toEqual([
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
    ]);
    expect(report.replaced).toEqual([]);
    expect(kernelFuncs(FORWARD_KERNELS)).toEqual(forwardBefore);
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).toBe(inputGradientBefore);
    expect(tf.getGradient('FusedBatchNorm')).toBe(batchNormGradient);
    expect(registerMissingGradients().added).toEqual([]);
  });

  it('gives the filter gradient the cpu backend gives', async () => {
    const gradient = () => {
      const x = tf.tensor4d(randomValues(2 * 7 * 7 * 3, 1), [2, 7, 7, 3]);
      const filter = tf.tensor4d(randomValues(3 * 3 * 3 * 4, 2), [3, 3, 3, 4]);
      return tf.grad((f) =>
        tf
          .conv2d(x, f as tf.Tensor4D, 1, 'same')
          .square()
          .sum(),
      )(filter);
    };
    const { absolute } = maxErrors(
      await valuesOn('wasm', gradient),
      await valuesOn('cpu', gradient),
    );
    expect(absolute).toBeLessThan(1e-4);
  });

  it('lets registerWasmGradients replace the forward kernels afterwards', async () => {
    await tf.setBackend('wasm');
    const report = registerWasmGradients();
    expect(report.alreadyRegistered).toEqual(
      expect.arrayContaining(['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter']),
    );
    expect(report.replaced).toEqual(expect.arrayContaining(['Conv2D', 'Sum', 'Mean']));
  });
});
