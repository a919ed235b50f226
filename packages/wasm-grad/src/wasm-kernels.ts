import {
  type DataId,
  type DataType,
  getKernel,
  type KernelBackend,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { WasmGradError } from './errors';

/**
 * The slice of the wasm backend's class the gradient kernels use; typed structurally so this package
 * needs no import of the backend's internals.
 */
export interface WasmBackendLike extends KernelBackend {
  /** Looking data up moves it into the wasm heap if it lives on another backend (tfjs moves lazily). */
  readonly dataIdMap: { get(dataId: DataId): unknown };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

/**
 * Moves the data of `inputs` into the wasm heap where it still lives on another backend. TF.js moves a
 * tensor made on another backend only when a kernel first looks its data up, and the move allocates in
 * the wasm heap, which may grow it; `typedArrayFromHeap` takes the heap's buffer before that lookup, so
 * its view of a tensor still on another backend would be stale (a RangeError with threads, a detached
 * buffer without). The package's kernels run this first (see `registerWasmGradients`).
 */
export function moveToWasmHeap(backend: WasmBackendLike, inputs: NamedTensorInfoMap): void {
  for (const input of Object.values(inputs)) if (input) backend.dataIdMap.get(input.dataId);
}

/**
 * Runs another kernel registered for `wasm` directly, the way backends compose their own kernels: no
 * tensors, no tape, just TensorInfos that the caller owns and must release with {@link release}.
 */
export function runWasmKernel(
  kernelName: string,
  backend: WasmBackendLike,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const kernel = getKernel(kernelName, 'wasm');
  if (!kernel)
    throw new WasmGradError(
      'KERNEL_NOT_REGISTERED',
      `The ${kernelName} kernel is not registered for wasm: import @tensorflow/tfjs-backend-wasm (and keep its kernels registered) before computing gradients.`,
    );
  const output = kernel.kernelFunc({ inputs, backend, attrs });
  return Array.isArray(output) ? (output[0] as TensorInfo) : (output as TensorInfo);
}

/** Frees intermediate results made by {@link runWasmKernel}. */
export function release(backend: WasmBackendLike, ...intermediates: TensorInfo[]): void {
  for (const info of intermediates) backend.disposeData(info.dataId);
}

/** `Transpose` on wasm. */
export function transpose(backend: WasmBackendLike, x: TensorInfo, perm: number[]): TensorInfo {
  return runWasmKernel('Transpose', backend, { x }, { perm });
}

/** `Reshape` on wasm: shares the data, so the result is released like any other intermediate. */
export function reshape(backend: WasmBackendLike, x: TensorInfo, shape: number[]): TensorInfo {
  return runWasmKernel('Reshape', backend, { x }, { shape });
}

/**
 * A slice of `x` (`begin` and `size` per axis, sizes explicit), copied in contiguous runs: the axes
 * after the last partly kept one are whole, so each run spans them. wasm's own `Slice` moves values one
 * at a time, about 25 ns each on large tensors; this is a memory copy per run.
 */
export function slice(
  backend: WasmBackendLike,
  x: TensorInfo,
  begin: number[],
  size: number[],
): TensorInfo {
  // Allocate first: growing the wasm heap detaches views taken before.
  const output = backend.makeOutput(size, x.dtype);
  const target = backend.typedArrayFromHeap(output);
  const source = backend.typedArrayFromHeap(x);
  const rank = x.shape.length;
  let runAxis = rank - 1; // the axis a run starts at: every later axis is taken whole
  while (runAxis > 0 && size[runAxis] === x.shape[runAxis]) runAxis--;
  const strides = [...util.computeStrides(x.shape), 1];
  const run = (size[runAxis] as number) * (strides[runAxis] as number);
  const runs = util.sizeFromShape(size.slice(0, runAxis));
  const position = new Array<number>(runAxis).fill(0);
  for (let runIndex = 0; runIndex < runs; runIndex++) {
    let offset = (begin[runAxis] as number) * (strides[runAxis] as number);
    for (let axis = 0; axis < runAxis; axis++)
      offset += ((begin[axis] as number) + (position[axis] as number)) * (strides[axis] as number);
    target.set(source.subarray(offset, offset + run), runIndex * run);
    for (let axis = runAxis - 1; axis >= 0; axis--) {
      position[axis] = (position[axis] as number) + 1;
      if ((position[axis] as number) < (size[axis] as number)) break;
      position[axis] = 0;
    }
  }
  return output;
}

/** `PadV2` with zeros on wasm; `paddings` holds [before, after] per axis, each ≥ 0. */
export function padZeros(
  backend: WasmBackendLike,
  x: TensorInfo,
  paddings: Array<[number, number]>,
): TensorInfo {
  return runWasmKernel('PadV2', backend, { x }, { paddings, constantValue: 0 });
}
