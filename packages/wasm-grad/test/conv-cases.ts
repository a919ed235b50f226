import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { maxErrors, randomValues, valuesOn } from './backends';

export type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];

export interface ConvCase {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  filter: [number, number];
  outChannels: number; // channel multiplier for depthwise cases
  strides: [number, number];
  pad: Pad;
}

// A grid over the geometry that matters: batch 1 and odd sizes, 1x1 to 5x5 and non-square filters,
// strides 1-3, every padding mode including asymmetric explicit padding; 1 to 16 input channels.
export const CASES: ConvCase[] = [];
const shapes: Array<[number, number, number, number]> = [
  [1, 5, 5, 1],
  [2, 7, 6, 3],
  [3, 8, 8, 4],
  [1, 9, 11, 2],
  [2, 6, 7, 16],
];
const filters: Array<[number, number]> = [
  [1, 1],
  [3, 3],
  [2, 3],
  [5, 5],
];
const strideOptions: Array<[number, number]> = [
  [1, 1],
  [2, 2],
  [3, 2],
];
const pads: Pad[] = [
  'same',
  'valid',
  1,
  [
    [0, 0],
    [1, 2],
    [0, 1],
    [0, 0],
  ],
];
let variant = 0;
for (const [batch, height, width, inChannels] of shapes) {
  for (const filter of filters) {
    for (const strides of strideOptions) {
      const pad = pads[variant % pads.length] as Pad;
      variant++;
      if (pad === 'valid' && (filter[0] > height || filter[1] > width)) continue;
      // tfjs rejects numeric/explicit padding whose output size would not be whole with 'round'.
      CASES.push({
        batch,
        height,
        width,
        inChannels,
        filter,
        outChannels: 1 + (variant % 3),
        strides,
        pad,
      });
    }
  }
}

export function describeCase(c: ConvCase): string {
  return `x ${c.batch}x${c.height}x${c.width}x${c.inChannels} f ${c.filter.join('x')}x${c.outChannels} s ${c.strides.join(',')} pad ${JSON.stringify(c.pad)}`;
}

const TOLERANCE = { absolute: 1e-4, relative: 1e-5 };

export function expectClose(
  actual: Float32Array,
  expected: Float32Array,
  label: string,
  tolerance = TOLERANCE,
): void {
  expect(actual.length, label).toBe(expected.length);
  const errors = maxErrors(actual, expected);
  expect(errors.absolute, `${label}: max abs error`).toBeLessThan(tolerance.absolute);
  expect(errors.relative, `${label}: max rel error`).toBeLessThan(tolerance.relative);
}

/** Runs one gradient kernel on cpu and on wasm with identical inputs and compares the results. */
export async function compareKernel(
  label: string,
  kernelName: string,
  inputShapes: Record<string, number[]>,
  attrs: Record<string, unknown>,
  tolerance = TOLERANCE,
): Promise<void> {
  const compute = () => {
    const inputs: Record<string, tf.Tensor> = {};
    let seed = 1;
    for (const [name, shape] of Object.entries(inputShapes)) {
      inputs[name] = tf.tensor(
        randomValues(
          shape.reduce((a, b) => a * b, 1),
          seed++,
        ),
        shape,
      );
    }
    return tf.engine().runKernel(kernelName, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
  };
  const expected = await valuesOn('cpu', compute);
  const actual = await valuesOn('wasm', compute);
  expectClose(actual, expected, label, tolerance);
}

export function forwardOutputShape(c: ConvCase, depthwise: boolean): number[] {
  const info = tf.backend_util.computeConv2DInfo(
    [c.batch, c.height, c.width, c.inChannels],
    [c.filter[0], c.filter[1], c.inChannels, c.outChannels],
    c.strides,
    1,
    c.pad,
    'round',
    depthwise,
  );
  return info.outShape;
}

/** `Conv2DBackpropFilter` on wasm against cpu over every geometry of {@link CASES}. */
export async function compareFilterGradientOverGrid(): Promise<void> {
  for (const c of CASES) {
    await compareKernel(
      `Conv2DBackpropFilter ${describeCase(c)}`,
      'Conv2DBackpropFilter',
      { x: [c.batch, c.height, c.width, c.inChannels], dy: forwardOutputShape(c, false) },
      {
        strides: c.strides,
        pad: c.pad,
        dataFormat: 'NHWC',
        dimRoundingMode: 'round',
        filterShape: [c.filter[0], c.filter[1], c.inChannels, c.outChannels],
      },
    );
  }
}

/**
 * `Conv2DBackpropFilter` on wasm against cpu for a batch too large for one patch matrix: 5x5 taps x 16
 * channels x 64x64 positions is 1.6 M patch values an image, so the batch of 6 is done in parts of 5 and 1
 * images, added. Each gradient value sums 24,576 products, so float32 rounding allows a larger absolute
 * error.
 */
export async function compareFilterGradientInParts(): Promise<void> {
  await compareKernel(
    'Conv2DBackpropFilter x 6x64x64x16 f 5x5x16x2',
    'Conv2DBackpropFilter',
    { x: [6, 64, 64, 16], dy: [6, 64, 64, 2] },
    { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [5, 5, 16, 2] },
    { absolute: 1e-3, relative: 1e-5 },
  );
}
