import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmGradients } from '../src';
import { randomValues } from './backends';

/** The wasm heap's size now: inputs larger than it must grow it when they move in. */
function heapBytes(): number {
  const wasm = tf.findBackend('wasm') as unknown as { wasm: { HEAPU8: Uint8Array } };
  return wasm.wasm.HEAPU8.byteLength;
}

/** A batch size that makes [batch, ...rest] float32 larger than the wasm heap is now. */
function batchBeyondHeap(rest: number[]): number {
  const perImage = rest.reduce((size, length) => size * length, 1) * 4;
  return Math.ceil((1.1 * heapBytes()) / perImage);
}

interface Case {
  label: string;
  kernelName: string;
  inputs: (batch: number) => Record<string, tf.Tensor>;
  imageShape: number[];
  attrs?: Record<string, unknown>;
}

const CONV = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] };

// Each case's inputs outgrow the heap the cases before it left, so cheap kernels come first.
const CASES: Case[] = [
  {
    label: 'Equal with broadcasting',
    kernelName: 'Equal',
    imageShape: [4, 4, 64],
    inputs: (batch) => ({
      a: tf.tensor(randomValues(batch * 1024, 7).map(Math.round), [batch, 4, 4, 64]),
      b: tf.tensor(randomValues(batch * 64, 8).map(Math.round), [batch, 1, 1, 64]),
    }),
  },
  {
    label: 'Conv2D by Winograd',
    kernelName: 'Conv2D',
    imageShape: [16, 16, 16],
    inputs: (batch) => ({
      x: tf.tensor(randomValues(batch * 4096, 1), [batch, 16, 16, 16]),
      filter: tf.tensor(randomValues(9 * 16 * 8, 2), [3, 3, 16, 8]),
    }),
    attrs: CONV,
  },
  {
    label: 'Conv2DBackpropFilter by Winograd',
    kernelName: 'Conv2DBackpropFilter',
    imageShape: [16, 16, 24],
    inputs: (batch) => ({
      x: tf.tensor(randomValues(batch * 4096, 3), [batch, 16, 16, 16]),
      dy: tf.tensor(randomValues(batch * 2048, 4), [batch, 16, 16, 8]),
    }),
    attrs: { ...CONV, filterShape: [3, 3, 16, 8] },
  },
];

describe("the package's kernels take inputs made on another backend", () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerWasmGradients();
  });

  // TF.js moves such inputs into the wasm heap when a kernel first looks them up; the move can grow the
  // heap, which detached (one thread) or outdated (threads) a view of the heap taken before it. The same
  // kernel on inputs made on wasm is the reference (each kernel is checked against cpu elsewhere); it runs
  // second, so that the moved inputs are the ones that grow the heap.
  for (const c of CASES) {
    it(`${c.label}, with inputs larger than the wasm heap`, async () => {
      const batch = batchBeyondHeap(c.imageShape);
      const attrs = (c.attrs ?? {}) as tf.NamedAttrMap;
      const runOn = (inputs: Record<string, tf.Tensor>) =>
        tf.tidy(() =>
          tf.cast(tf.engine().runKernel(c.kernelName, inputs, attrs) as tf.Tensor, 'float32'),
        );
      await tf.setBackend('cpu');
      const cpuInputs = tf.tidy(() => c.inputs(batch));
      await tf.setBackend('wasm');
      const moved = runOn(cpuInputs);
      const actual = (await moved.data()) as Float32Array;
      const wasmInputs = tf.tidy(() => c.inputs(batch));
      const reference = runOn(wasmInputs);
      const expected = (await reference.data()) as Float32Array;
      tf.dispose([moved, reference, ...Object.values(cpuInputs), ...Object.values(wasmInputs)]);
      expect(actual.length).toBe(expected.length);
      expect(
        actual.every((value, index) => value === expected[index]),
        c.label,
      ).toBe(true);
    });
  }
});
