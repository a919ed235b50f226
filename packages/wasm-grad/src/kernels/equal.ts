import {
  backend_util,
  Equal,
  type KernelConfig,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { stockKernel } from '../stock-kernels';
import type { WasmBackendLike } from '../wasm-kernels';

/**
 * `Equal` for wasm with broadcasting in one pass. wasm's own kernel is fast on operands of the same
 * shape but computes every broadcast element's indices one by one (~80 ns a value here): the gradient of
 * a global max pool (ResNet-9's head) compares [64, 4, 4, 512] with [64, 1, 1, 512], which took 3.5% of a
 * training step. Here an odometer walks the output's rows and each operand's stride is 0 along the axes it
 * broadcasts. Operands of one shape, and string or complex ones, go to wasm's own kernel.
 */
export const equalConfig: KernelConfig = {
  kernelName: Equal,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (
      util.arraysEqual(a.shape, b.shape) ||
      a.dtype === 'string' ||
      a.dtype === 'complex64' ||
      b.dtype === 'string' ||
      b.dtype === 'complex64'
    )
      return stockKernel(Equal)(args);
    const wasm = args.backend as WasmBackendLike;
    const shape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    // Allocated first: growing the wasm heap detaches the views below.
    const output = wasm.makeOutput(shape, 'bool');
    compareBroadcast(
      wasm.typedArrayFromHeap(a),
      broadcastStrides(a.shape, shape),
      wasm.typedArrayFromHeap(b),
      broadcastStrides(b.shape, shape),
      shape,
      wasm.typedArrayFromHeap(output) as Uint8Array,
    );
    return output;
  },
};

/** An operand's element strides along each axis of the output's shape: 0 where it broadcasts. */
function broadcastStrides(operandShape: readonly number[], shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(0);
  let stride = 1;
  for (let axis = operandShape.length - 1; axis >= 0; axis--) {
    const length = operandShape[axis] as number;
    const outputAxis = shape.length - operandShape.length + axis;
    strides[outputAxis] = length === 1 ? 0 : stride;
    stride *= length;
  }
  return strides;
}

/** output[i] = a[i] === b[i] (1 or 0) with broadcast strides, row by row along the last axis. */
function compareBroadcast(
  a: ArrayLike<number>,
  aStrides: readonly number[],
  b: ArrayLike<number>,
  bStrides: readonly number[],
  shape: readonly number[],
  output: Uint8Array,
): void {
  const rank = shape.length;
  if (rank === 0) {
    output[0] = a[0] === b[0] ? 1 : 0;
    return;
  }
  const rowLength = shape[rank - 1] as number;
  const aStep = aStrides[rank - 1] as number;
  const bStep = bStrides[rank - 1] as number;
  const rows = output.length / Math.max(1, rowLength);
  const position = new Array<number>(rank - 1).fill(0);
  let aRow = 0;
  let bRow = 0;
  for (let row = 0, at = 0; row < rows; row++) {
    for (let i = 0, ai = aRow, bi = bRow; i < rowLength; i++, ai += aStep, bi += bStep)
      output[at++] = a[ai] === b[bi] ? 1 : 0;
    // Next row: advance the odometer over the leading axes, carrying like a counter.
    for (let axis = rank - 2; axis >= 0; axis--) {
      aRow += aStrides[axis] as number;
      bRow += bStrides[axis] as number;
      const next = (position[axis] as number) + 1;
      if (next < (shape[axis] as number)) {
        position[axis] = next;
        break;
      }
      aRow -= (aStrides[axis] as number) * (shape[axis] as number);
      bRow -= (bStrides[axis] as number) * (shape[axis] as number);
      position[axis] = 0;
    }
  }
}
