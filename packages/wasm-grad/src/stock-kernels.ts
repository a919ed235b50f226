import type { KernelFunc } from '@tensorflow/tfjs-core';
import { WasmGradError } from './errors';

/**
 * The wasm backend's own kernels that this package's replacements delegate to for the cases they do
 * not speed up, kept by `registerWasmGradients()` before it unregisters them.
 */
const stockKernels = new Map<string, KernelFunc>();

/** Remembers the kernel a replacement takes the place of. */
export function keepStockKernel(kernelName: string, kernelFunc: KernelFunc): void {
  stockKernels.set(kernelName, kernelFunc);
}

/** The wasm backend's own kernel a replacement delegates to. */
export function stockKernel(kernelName: string): KernelFunc {
  const kernelFunc = stockKernels.get(kernelName);
  if (!kernelFunc)
    throw new WasmGradError(
      'KERNEL_NOT_REGISTERED',
      `The wasm backend's own ${kernelName} kernel is missing: import @tensorflow/tfjs-backend-wasm before calling registerWasmGradients().`,
    );
  return kernelFunc;
}
