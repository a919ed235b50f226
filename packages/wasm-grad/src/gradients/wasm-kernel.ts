import { engine, getKernel, type Tensor } from '@tensorflow/tfjs-core';

/**
 * Whether a gradient can run as this package's wasm kernel `kernelName`: the engine is on wasm, the kernel
 * is registered there, and every tensor is float32 (the kernels' only type); else the tfjs-core formula.
 */
export function runsOnWasmKernel(kernelName: string, ...tensors: readonly Tensor[]): boolean {
  return (
    engine().backendName === 'wasm' &&
    tensors.every((tensor) => tensor.dtype === 'float32') &&
    getKernel(kernelName, 'wasm') !== undefined
  );
}
