import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmGradients, WASM_GRADIENT_KERNELS } from '../src/index';
import { maxErrors, randomValues, valuesOn } from './backends';
import {
  CASES,
  compareFilterGradientInParts,
  compareFilterGradientOverGrid,
  compareKernel,
  describeCase,
  expectClose,
  forwardOutputShape,
  type Pad,
} from './conv-cases';

describe('registerWasmGradients', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('adds the missing kernels and replaces the slow ones, once', () => {
    const first = registerWasmGradients();
    expect([...first.added, ...first.replaced, ...first.alreadyRegistered].sort()).toEqual(
      [...WASM_GRADIENT_KERNELS].sort(),
    );
    const second = registerWasmGradients();
    expect(second.added).toEqual([]);
    expect(second.replaced).toEqual([]);
    expect([...second.alreadyRegistered].sort()).toEqual([...WASM_GRADIENT_KERNELS].sort());
  });
});

describe('gradient kernels match the cpu backend', () => {
  beforeAll(() => {
    registerWasmGradients();
  });

  it(`Conv2DBackpropFilter over ${CASES.length} geometries`, compareFilterGradientOverGrid);

  it(
    'Conv2DBackpropFilter over a batch too large for one patch matrix (summed over image groups)',
    compareFilterGradientInParts,
  );

  it('Conv2DBackpropFilter of a wide layer over a part per image (summed)', async () => {
    // 3x3 taps x 130 channels = 1,170 patch rows over 64x64 positions: 4.8 M patch values an image, so
    // each image is its own part and the two are added.
    await compareKernel(
      'Conv2DBackpropFilter x 2x64x64x130 f 3x3x130x2',
      'Conv2DBackpropFilter',
      { x: [2, 64, 64, 130], dy: [2, 64, 64, 2] },
      { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 130, 2] },
      { absolute: 1e-3, relative: 1e-5 },
    );
  });

  it(`Conv2DBackpropInput over ${CASES.length} geometries`, async () => {
    for (const c of CASES) {
      await compareKernel(
        `Conv2DBackpropInput ${describeCase(c)}`,
        'Conv2DBackpropInput',
        {
          dy: forwardOutputShape(c, false),
          filter: [c.filter[0], c.filter[1], c.inChannels, c.outChannels],
        },
        {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          dimRoundingMode: 'round',
          inputShape: [c.batch, c.height, c.width, c.inChannels],
        },
      );
    }
  });

  it(`DepthwiseConv2dNativeBackpropFilter over ${CASES.length} geometries, multipliers 1-3`, async () => {
    for (const c of CASES) {
      await compareKernel(
        `DepthwiseConv2dNativeBackpropFilter ${describeCase(c)}`,
        'DepthwiseConv2dNativeBackpropFilter',
        { x: [c.batch, c.height, c.width, c.inChannels], dy: forwardOutputShape(c, true) },
        {
          strides: c.strides,
          dilations: [1, 1],
          pad: c.pad,
          dimRoundingMode: 'round',
          filterShape: [c.filter[0], c.filter[1], c.inChannels, c.outChannels],
        },
      );
    }
  });

  it(`DepthwiseConv2dNativeBackpropInput over ${CASES.length} geometries, multipliers 1-3`, async () => {
    for (const c of CASES) {
      await compareKernel(
        `DepthwiseConv2dNativeBackpropInput ${describeCase(c)}`,
        'DepthwiseConv2dNativeBackpropInput',
        {
          dy: forwardOutputShape(c, true),
          filter: [c.filter[0], c.filter[1], c.inChannels, c.outChannels],
        },
        {
          strides: c.strides,
          dilations: [1, 1],
          pad: c.pad,
          dimRoundingMode: 'round',
          inputShape: [c.batch, c.height, c.width, c.inChannels],
        },
      );
    }
  });

  it('MaxPoolGrad over pool sizes, strides and paddings, routing ties to the first maximum', async () => {
    const poolCases: Array<{
      shape: number[];
      filterSize: [number, number];
      strides: [number, number];
      pad: Pad;
    }> = [
      { shape: [2, 8, 8, 3], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
      { shape: [1, 7, 9, 2], filterSize: [3, 3], strides: [2, 2], pad: 'same' },
      { shape: [3, 6, 5, 4], filterSize: [3, 2], strides: [1, 1], pad: 'same' },
      { shape: [1, 5, 5, 1], filterSize: [2, 2], strides: [1, 1], pad: 'valid' },
      { shape: [2, 9, 9, 3], filterSize: [3, 3], strides: [3, 3], pad: 1 },
      // 2x2 stride 2 tiles (the unrolled path): odd sizes drop the last row and column.
      { shape: [3, 9, 7, 5], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
      { shape: [1, 6, 6, 2], filterSize: [2, 2], strides: [2, 2], pad: 'same' },
      { shape: [2, 7, 7, 3], filterSize: [2, 2], strides: [2, 2], pad: 'same' }, // padded: general path
      // 2x2 stride 2 over channels in fours (the SIMD kernel), odd and even sizes.
      { shape: [3, 9, 7, 8], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
      { shape: [2, 6, 4, 4], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
      { shape: [1, 3, 2, 12], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
    ];
    for (const { shape, filterSize, strides, pad } of poolCases) {
      for (const withTies of [false, true]) {
        const compute = () => {
          let x = tf.tensor(
            randomValues(
              shape.reduce((a, b) => a * b, 1),
              7,
            ),
            shape as [number, number, number, number],
          );
          // After a ReLU whole windows are zero: ties must go to one position only.
          if (withTies) x = tf.relu(tf.sub(x, 0.4));
          const rounding = typeof pad === 'number' ? 'round' : undefined;
          const y = tf.maxPool(x as tf.Tensor4D, filterSize, strides, pad, rounding);
          const dy = tf.tensor(randomValues(y.size, 9), y.shape);
          return tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, {
            filterSize,
            strides,
            pad,
            dimRoundingMode: rounding,
          } as tf.NamedAttrMap) as tf.Tensor;
        };
        const expected = await valuesOn('cpu', compute);
        const actual = await valuesOn('wasm', compute);
        expectClose(
          actual,
          expected,
          `MaxPoolGrad ${shape} f ${filterSize} s ${strides} pad ${pad} ties ${withTies}`,
        );
      }
    }
  });

  it('Sum and Mean over leading axes, other axes, keepDims and int32 match the cpu backend', async () => {
    const reductionCases: Array<{ shape: number[]; axis: number | number[]; keepDims: boolean }> = [
      { shape: [2, 5, 5, 3], axis: [0, 1, 2], keepDims: false }, // per-channel: batch-norm, bias
      { shape: [3, 7, 6, 4], axis: [0, 1, 2], keepDims: true },
      { shape: [1, 1, 1, 5], axis: [2, 0, 1], keepDims: false }, // batch 1, unsorted axes
      { shape: [9, 7], axis: 0, keepDims: false }, // odd row count: the 4-row loop's remainder
      { shape: [5, 3, 2], axis: [-3], keepDims: true }, // negative axis
      { shape: [2, 3, 4, 5], axis: [0, 1], keepDims: false }, // several kept axes
      { shape: [4, 6, 3], axis: [1, 2], keepDims: false }, // trailing axes: wasm's own kernel
      { shape: [4, 6, 3], axis: [0, 2], keepDims: true }, // non-contiguous: wasm's own kernel
      { shape: [4, 6, 3], axis: [0, 1, 2], keepDims: false }, // full reduction: wasm's own kernel
    ];
    for (const { shape, axis, keepDims } of reductionCases) {
      for (const kernel of ['sum', 'mean'] as const) {
        const compute = () => {
          const x = tf.tensor(
            randomValues(
              shape.reduce((a, b) => a * b, 1),
              11,
            ),
            shape,
          );
          return kernel === 'sum' ? tf.sum(x, axis, keepDims) : tf.mean(x, axis, keepDims);
        };
        const expected = await valuesOn('cpu', compute);
        const actual = await valuesOn('wasm', compute);
        expectClose(actual, expected, `${kernel} ${shape} axis ${axis} keepDims ${keepDims}`);
      }
    }
    const integers = () =>
      tf.sum(
        tf.tensor(
          [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          [3, 2],
          'int32',
        ),
        0,
      );
    expect(Array.from(await valuesOn('wasm', integers))).toEqual([9, 12]);
    await tf.setBackend('wasm');
    const kept = tf.tidy(() => tf.sum(tf.ones([2, 3, 4]), [0, 1], true));
    expect(kept.shape).toEqual([1, 1, 4]);
    kept.dispose();
  });

  it('BatchMatMul with every transpose combination, ranks 2-3 and broadcast batches matches cpu', async () => {
    const productCases: Array<{ a: number[]; b: number[] }> = [
      { a: [7, 5], b: [5, 3] },
      { a: [1, 9], b: [9, 1] },
      { a: [3, 4, 6], b: [3, 6, 2] },
      { a: [1, 4, 6], b: [3, 6, 5] }, // broadcast batch
    ];
    for (const { a, b } of productCases) {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          const swap = (shape: number[]) => [...shape.slice(0, -2), ...shape.slice(-2).reverse()];
          const aShape = transposeA ? swap(a) : a;
          const bShape = transposeB ? swap(b) : b;
          const compute = () =>
            tf.matMul(
              tf.tensor(
                randomValues(
                  aShape.reduce((x, y) => x * y, 1),
                  21,
                ),
                aShape,
              ),
              tf.tensor(
                randomValues(
                  bShape.reduce((x, y) => x * y, 1),
                  22,
                ),
                bShape,
              ),
              transposeA,
              transposeB,
            );
          const expected = await valuesOn('cpu', compute);
          const actual = await valuesOn('wasm', compute);
          expectClose(
            actual,
            expected,
            `matMul ${aShape} x ${bShape} tA ${transposeA} tB ${transposeB}`,
          );
        }
      }
    }
  });

  it('Equal with broadcasting (and without) matches the cpu backend, float32 and int32', async () => {
    const pairs: Array<[number[], number[]]> = [
      [
        [4, 3, 3, 8],
        [4, 1, 1, 8],
      ], // a global max pool's gradient
      [
        [2, 1, 3],
        [4, 1],
      ], // both operands broadcast
      [[5], []], // a scalar
      [[], [3, 2]],
      [
        [1, 1],
        [2, 3],
      ],
      [
        [3, 4],
        [3, 4],
      ], // same shapes: wasm's own kernel
      [
        [2, 0, 3],
        [1, 3],
      ], // empty
    ];
    for (const dtype of ['float32', 'int32'] as const) {
      for (const [aShape, bShape] of pairs) {
        // Values in {-1, 0, 1}: plenty of equal pairs.
        const operand = (shape: number[], seed: number) =>
          tf.tensor(
            Array.from(
              randomValues(
                shape.reduce((size, length) => size * length, 1),
                seed,
              ),
              (value) => Math.round(value),
            ),
            shape,
            dtype,
          );
        const compute = () => tf.cast(tf.equal(operand(aShape, 1), operand(bShape, 2)), 'int32');
        const expected = await valuesOn('cpu', compute);
        const actual = await valuesOn('wasm', compute);
        expect(Array.from(actual), `${dtype} ${aShape} vs ${bShape}`).toEqual(Array.from(expected));
      }
    }
  });

  it('ClipByValue (ReLU6) gradient passes dy exactly where min <= x <= max, on wasm and cpu', async () => {
    const count = 4 * 7 * 5 * 3;
    const values = randomValues(count, 31).map((value) => value * 9 - 1.5); // about [-10.5, 7.5)
    values.set([0, 6, -0, 6.000001, -0.000001, Number.NaN], 0); // the boundaries, and NaN
    const outputGradient = randomValues(count, 32);
    const expected = values.map((value, i) =>
      value >= 0 && value <= 6 ? (outputGradient[i] as number) : 0,
    );
    for (const backend of ['wasm', 'cpu'] as const) {
      const actual = await valuesOn(backend, () => {
        const x = tf.tensor4d(values, [4, 7, 5, 3]);
        const dy = tf.tensor4d(outputGradient, [4, 7, 5, 3]);
        return tf.grad((input: tf.Tensor) => tf.mul(tf.clipByValue(input, 0, 6), dy))(x);
      });
      expect(Array.from(actual), backend).toEqual(Array.from(expected));
    }
  });

  it('Erf and its gradient match erf and dy·(2/√π)·e^(−x²), on wasm (SIMD kernel) and cpu', async () => {
    // Not a multiple of 4 (the kernel pads its last group), with zeros, tiny and huge values, ±∞ and NaN.
    const count = 4 * 7 * 5 * 3 + 3;
    const values = randomValues(count, 41).map((value) => value * 6);
    values.set([
      0,
      -0,
      1e-8,
      -1e-8,
      0.5,
      -3,
      10,
      -10,
      1e30,
      -1e30,
      Infinity,
      -Infinity,
      Number.NaN,
    ]);
    const outputGradient = randomValues(count, 42);
    const grad = () =>
      tf.grad((input: tf.Tensor) => tf.mul(tf.erf(input), tf.tensor1d(outputGradient)))(
        tf.tensor1d(values),
      );
    const erfOnCpu = await valuesOn('cpu', () => tf.erf(tf.tensor1d(values)));
    for (const backend of ['wasm', 'cpu'] as const) {
      const erf = await valuesOn(backend, () => tf.erf(tf.tensor1d(values)));
      const gradient = await valuesOn(backend, grad);
      values.forEach((value, i) => {
        if (Number.isNaN(value)) {
          expect([erf[i], gradient[i]], `${backend} at NaN`).toEqual([Number.NaN, Number.NaN]);
          return;
        }
        // Both use Abramowitz and Stegun's formula (absolute error < 1.5e-7), the cpu backend in double
        // precision: the kernel's float32 evaluation differs by a few float32 steps at 1 (1.2e-7 each).
        expect(
          Math.abs((erf[i] as number) - (erfOnCpu[i] as number)),
          `${backend} erf(${value})`,
        ).toBeLessThan(6e-7);
        const exact =
          (outputGradient[i] as number) * (2 / Math.sqrt(Math.PI)) * Math.exp(-value * value);
        expect(
          Math.abs((gradient[i] as number) - exact),
          `${backend} gradient at ${value}`,
        ).toBeLessThanOrEqual(2e-6 * Math.abs(exact) + 1e-37);
      });
    }
  });

  it('Erf over more values than one pass of the SIMD kernel (4 M) matches the cpu backend, leaving no tensors', async () => {
    const count = 2 ** 22 + 5;
    const values = randomValues(count, 43).map((value) => value * 4);
    const compute = () => tf.erf(tf.tensor1d(values));
    const expected = await valuesOn('cpu', compute);
    const actual = await valuesOn('wasm', compute);
    expect(maxErrors(actual, expected).absolute).toBeLessThan(6e-7);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) tf.tidy(compute).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Identity shares the data instead of copying it, which outlives the original', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    const buffers = () => backend.numDataIds();
    const original = tf.tensor2d([1, -2, 3, 4.5, 0, 6], [2, 3]);
    const before = buffers();
    const copy = tf.clone(original);
    expect(buffers()).toBe(before); // no new buffer
    original.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1, -2, 3, 4.5, 0, 6]);
    expect(copy.shape).toEqual([2, 3]);
    const variable = tf.variable(copy);
    const zeros = tf.zerosLike(copy);
    variable.assign(zeros);
    zeros.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1, -2, 3, 4.5, 0, 6]); // assignment took new data
    copy.dispose();
    variable.dispose();
    expect(buffers()).toBe(before - 1);
  });

  it('leaks no tensors or wasm memory across repeated gradient steps', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(randomValues(2 * 9 * 9 * 3, 3), [2, 9, 9, 3]);
    const filter = tf.variable(tf.tensor4d(randomValues(3 * 3 * 3 * 4, 4), [3, 3, 3, 4]));
    const depthwise = tf.variable(tf.tensor4d(randomValues(3 * 3 * 4 * 1, 5), [3, 3, 4, 1]));
    const weights = tf.variable(tf.tensor2d(randomValues(243 * 5, 6), [243, 5]));
    const step = () =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() =>
          tf.sum(
            tf.maxPool(
              tf.depthwiseConv2d(tf.conv2d(x, filter, 2, 'same'), depthwise, 1, 'same'),
              2,
              2,
              'valid',
            ),
          ),
        );
        const dense = tf.variableGrads(() =>
          tf.sum(tf.relu(tf.matMul(tf.reshape(x, [2, 243]), weights))),
        ).grads;
        return tf.addN(
          [...Object.values(grads), ...Object.values(dense)].map((gradient) => tf.sum(gradient)),
        );
      });
    step().dispose();
    const tensorsBefore = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    for (let i = 0; i < 20; i++) step().dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(tf.memory().numBytes).toBe(bytesBefore);
    tf.dispose([x, filter, depthwise, weights]);
  });
});
