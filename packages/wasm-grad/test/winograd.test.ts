import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmGradients } from '../src';
import { startProductHelpers } from '../src/simd/node-helpers';
import { WinogradConvolution } from '../src/simd/winograd';
import { randomValues, valuesOn } from './backends';
import { compareKernel, type Pad } from './conv-cases';

// 3x3 convolutions at stride 1, which Conv2D and FusedConv2D run by Winograd F(2x2, 3x3): batch 1 and
// odd sizes (a tile's second row or column falls off the output), 1x1 and 2x3 inputs (every tap but the
// centre in the padding), every padding mode; channels the kernel takes (inputs a multiple of 4, outputs
// of 8).
const SHAPES: Array<[number, number, number, number]> = [
  [1, 1, 1, 4],
  [2, 2, 3, 8],
  [3, 5, 7, 4],
  [1, 8, 8, 12],
  [2, 9, 6, 16],
];
const PADS: Pad[] = [
  'same',
  'valid',
  1,
  [
    [0, 0],
    [2, 0],
    [1, 2],
    [0, 0],
  ],
];
const OUT_CHANNELS = [8, 24];

interface Case {
  shape: [number, number, number, number];
  pad: Pad;
  outChannels: number;
}

const CASES: Case[] = SHAPES.flatMap((shape, index) =>
  PADS.filter((pad) => pad !== 'valid' || (shape[1] >= 3 && shape[2] >= 3)).map((pad, at) => ({
    shape,
    pad,
    outChannels: OUT_CHANNELS[(index + at) % OUT_CHANNELS.length] as number,
  })),
);

const describeCase = (c: Case) =>
  `x ${c.shape.join('x')} f 3x3x${c.outChannels} pad ${JSON.stringify(c.pad)}`;

const ATTRS = { strides: [1, 1], dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: 'round' };

describe('3x3 stride-1 convolutions by Winograd F(2x2, 3x3) match the cpu backend', () => {
  beforeAll(() => {
    registerWasmGradients();
  });

  it(`Conv2D over ${CASES.length} geometries`, async () => {
    for (const c of CASES) {
      await compareKernel(
        `Conv2D ${describeCase(c)}`,
        'Conv2D',
        { x: c.shape, filter: [3, 3, c.shape[3], c.outChannels] },
        { ...ATTRS, pad: c.pad },
      );
    }
  });

  it('FusedConv2D with a bias and linear or ReLU activation, and without a bias', async () => {
    for (const c of CASES.slice(0, 8)) {
      for (const [activation, bias] of [
        ['linear', true],
        ['relu', true],
        ['relu', false],
      ] as const) {
        await compareKernel(
          `FusedConv2D ${activation}${bias ? ' + bias' : ''} ${describeCase(c)}`,
          'FusedConv2D',
          {
            x: c.shape,
            filter: [3, 3, c.shape[3], c.outChannels],
            ...(bias ? { bias: [c.outChannels] } : {}),
          },
          { ...ATTRS, pad: c.pad, activation },
        );
      }
    }
  });

  it('hands what it does not cover to the wasm backend: other activations, channels, strides', async () => {
    const covered = { x: [2, 6, 6, 8], filter: [3, 3, 8, 16], bias: [16] };
    await compareKernel('FusedConv2D elu', 'FusedConv2D', covered, {
      ...ATTRS,
      pad: 'same',
      activation: 'elu',
    });
    await compareKernel(
      'Conv2D 3 input channels',
      'Conv2D',
      { x: [2, 6, 6, 3], filter: [3, 3, 3, 8] },
      {
        ...ATTRS,
        pad: 'same',
      },
    );
    await compareKernel(
      'Conv2D 12 output channels',
      'Conv2D',
      { x: [2, 6, 6, 4], filter: [3, 3, 4, 12] },
      {
        ...ATTRS,
        pad: 'same',
      },
    );
    await compareKernel('Conv2D stride 2', 'Conv2D', covered, {
      ...ATTRS,
      pad: 'same',
      strides: [2, 2],
    });
  });

  it('Conv2DBackpropInput at stride 1 (a Winograd convolution with the flipped filter)', async () => {
    for (const c of CASES) {
      // The gradient's convolution reads dy (outChannels channels) and writes the input's channels.
      const inChannels = 8 * Math.ceil(c.shape[3] / 8);
      const outShape = tf.backend_util.computeConv2DInfo(
        [c.shape[0], c.shape[1], c.shape[2], inChannels],
        [3, 3, inChannels, c.outChannels],
        1,
        1,
        c.pad,
        'round',
      ).outShape;
      await compareKernel(
        `Conv2DBackpropInput ${describeCase(c)}`,
        'Conv2DBackpropInput',
        { dy: outShape, filter: [3, 3, inChannels, c.outChannels] },
        { ...ATTRS, pad: c.pad, inputShape: [c.shape[0], c.shape[1], c.shape[2], inChannels] },
      );
    }
  });

  it('Conv2DBackpropFilter at stride 1 (Winograd transforms of x and dy, products over the tiles)', async () => {
    for (const c of CASES) {
      const outShape = tf.backend_util.computeConv2DInfo(
        c.shape,
        [3, 3, c.shape[3], c.outChannels],
        1,
        1,
        c.pad,
        'round',
      ).outShape;
      await compareKernel(
        `Conv2DBackpropFilter ${describeCase(c)}`,
        'Conv2DBackpropFilter',
        { x: c.shape, dy: outShape },
        { ...ATTRS, pad: c.pad, filterShape: [3, 3, c.shape[3], c.outChannels] },
      );
    }
  });

  it('a batch larger than one part (2 images of 256x256x4, then 1) is done in parts', async () => {
    // A 256x256 image has 16,384 tiles: 16 products of 16,384 rows by 4 + 8 channels are 3.1 M values,
    // so 2 images fill a part of 8 M values.
    await compareKernel(
      'Conv2D x 3x256x256x4 f 3x3x8',
      'Conv2D',
      { x: [3, 256, 256, 4], filter: [3, 3, 4, 8] },
      { ...ATTRS, pad: 'same' },
    );
    // The filter gradient adds the parts' dU. Each value sums 196,608 products, which the cpu backend
    // adds one by one in float32 (an error of about N·ε·|term| ≈ 3e-3 of its own), hence the tolerance.
    await compareKernel(
      'Conv2DBackpropFilter x 3x256x256x4 f 3x3x8',
      'Conv2DBackpropFilter',
      { x: [3, 256, 256, 4], dy: [3, 256, 256, 8] },
      { ...ATTRS, pad: 'same', filterShape: [3, 3, 4, 8] },
      { absolute: 1e-2, relative: 1e-4 },
    );
  });

  it('leaks no tensors or wasm memory across repeated convolutions and their gradients', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(randomValues(2 * 7 * 7 * 4, 3), [2, 7, 7, 4]);
    const filter = tf.variable(tf.tensor4d(randomValues(3 * 3 * 4 * 8, 4), [3, 3, 4, 8]));
    const bias = tf.variable(tf.tensor1d(randomValues(8, 5)));
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() =>
          tf.sum(tf.fused.conv2d({ x, filter, strides: 1, pad: 'same', bias, activation: 'relu' })),
        );
        return tf.addN([value, ...Object.values(grads).map((gradient) => tf.sum(gradient))]);
      });
    step().dispose();
    const tensorsBefore = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    for (let i = 0; i < 10; i++) step().dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(tf.memory().numBytes).toBe(bytesBefore);
    tf.dispose([x, filter, bias]);
  });
});

describe('WinogradConvolution with a helper thread', () => {
  afterAll(async () => {
    await startProductHelpers(0);
  });

  it('gives the same outputs and filter gradient as on one thread (each value has one thread)', async () => {
    const geometry = {
      batchSize: 3,
      inHeight: 9,
      inWidth: 7,
      inChannels: 12,
      outHeight: 9,
      outWidth: 7,
      outChannels: 16,
      top: 1,
      left: 1,
    };
    const x = randomValues(3 * 9 * 7 * 12, 7);
    const filter = randomValues(9 * 12 * 16, 8);
    const bias = randomValues(16, 9);
    const run = () => {
      const output = new Float32Array(3 * 9 * 7 * 16);
      (WinogradConvolution.plan(geometry) as WinogradConvolution).run(
        x,
        filter,
        bias,
        true,
        output,
      );
      return output;
    };
    const gradient = () => {
      const output = new Float32Array(9 * 12 * 16);
      (WinogradConvolution.plan(geometry) as WinogradConvolution).filterGradient(
        x,
        randomValues(3 * 9 * 7 * 16, 10),
        output,
      );
      return output;
    };
    await startProductHelpers(0);
    const alone = run();
    const gradientAlone = gradient();
    expect(await startProductHelpers(1)).toHaveLength(1);
    expect(Array.from(run())).toEqual(Array.from(alone));
    expect(Array.from(gradient())).toEqual(Array.from(gradientAlone));
    // And both agree with the cpu backend's convolution.
    const expected = await valuesOn('cpu', () =>
      tf.fused.conv2d({
        x: tf.tensor4d(x, [3, 9, 7, 12]),
        filter: tf.tensor4d(filter, [3, 3, 12, 16]),
        strides: 1,
        pad: 'same',
        bias: tf.tensor1d(bias),
        activation: 'relu',
      }),
    );
    const difference = alone.reduce(
      (largest, value, index) => Math.max(largest, Math.abs(value - (expected[index] as number))),
      0,
    );
    expect(difference).toBeLessThan(1e-5);
  });

  it('declines channel counts the kernel does not take', () => {
    const geometry = {
      batchSize: 1,
      inHeight: 4,
      inWidth: 4,
      inChannels: 6,
      outHeight: 4,
      outWidth: 4,
      outChannels: 8,
      top: 1,
      left: 1,
    };
    expect(WinogradConvolution.plan(geometry)).toBeUndefined();
    expect(
      WinogradConvolution.plan({ ...geometry, inChannels: 8, outChannels: 12 }),
    ).toBeUndefined();
    expect(WinogradConvolution.plan({ ...geometry, inChannels: 8 })).toBeDefined();
  });
});
