import {
  type DataType,
  getKernel,
  type KernelBackend,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

/**
 * The slice of the wasm backend's class the gradient kernels use; typed structurally so this package
 * needs no import of the backend's internals.
 */
export interface WasmBackendLike extends KernelBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
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
  if (!kernel) throw new Error(`wasm-grad: kernel ${kernelName} is not registered for wasm`);
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

/** `Slice` on wasm. */
export function slice(
  backend: WasmBackendLike,
  x: TensorInfo,
  begin: number[],
  size: number[],
): TensorInfo {
  return runWasmKernel('Slice', backend, { x }, { begin, size });
}

/**
 * Rows `first` … `first + count − 1` of `x`'s leading axis, as one contiguous copy on the heap (wasm's
 * `Slice` moves values one at a time, about 25 ns each on large tensors).
 */
export function sliceLeadingAxis(
  backend: WasmBackendLike,
  x: TensorInfo,
  first: number,
  count: number,
): TensorInfo {
  const rowSize = x.shape.slice(1).reduce((size, dimension) => size * dimension, 1);
  // Allocate first: growing the wasm heap detaches views taken before.
  const rows = backend.makeOutput([count, ...x.shape.slice(1)], x.dtype);
  backend
    .typedArrayFromHeap(rows)
    .set(backend.typedArrayFromHeap(x).subarray(first * rowSize, (first + count) * rowSize));
  return rows;
}

/** `PadV2` with zeros on wasm; `paddings` holds [before, after] per axis, each ≥ 0. */
export function padZeros(
  backend: WasmBackendLike,
  x: TensorInfo,
  paddings: Array<[number, number]>,
): TensorInfo {
  return runWasmKernel('PadV2', backend, { x }, { paddings, constantValue: 0 });
}
