import type { BatchMatMulAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { stockKernel } from '../stock-kernels';
import { release, transpose, type WasmBackendLike } from '../wasm-kernels';

/**
 * `BatchMatMul` for wasm with the transposes done up front. The wasm backend's kernel handles
 * `transposeA`/`transposeB` inside its product at 5–15× the cost of a plain one, and every dense
 * layer's gradient needs both (dW = xᵀ·dy, dx = dy·Wᵀ); an explicit `Transpose` of the last two axes
 * followed by the plain product is much cheaper. Untransposed products go straight to wasm's kernel.
 */
export const batchMatMulConfig: KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const stock = stockKernel('BatchMatMul');
    if (!transposeA && !transposeB) return stock(args);
    const wasm = args.backend as WasmBackendLike;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const plainA = transposeA ? swapLastAxes(wasm, a) : a;
    const plainB = transposeB ? swapLastAxes(wasm, b) : b;
    const product = stock({
      inputs: { a: plainA, b: plainB },
      backend: wasm,
      attrs: { transposeA: false, transposeB: false },
    }) as TensorInfo;
    if (plainA !== a) release(wasm, plainA);
    if (plainB !== b) release(wasm, plainB);
    return product;
  },
};

function swapLastAxes(wasm: WasmBackendLike, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const perm = Array.from({ length: rank }, (_, axis) => axis);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return transpose(wasm, x, perm);
}
