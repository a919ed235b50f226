import { Erf, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { mapValues } from '../simd/elementwise';
import { productKernel } from '../simd/reduction-product';
import { stockKernel } from '../stock-kernels';
import type { WasmBackendLike } from '../wasm-kernels';

/** Name of the wasm kernel behind this package's `Erf` gradient. */
export const ERF_GRAD = 'ImgclsErfGrad';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * `Erf` for wasm in this package's SIMD kernel, 4 values per instruction and shared between threads;
 * wasm's own computes one value at a time on one thread (~10 ns a value here). GELU (`x·Φ(x)`, as
 * tf.layers computes it) runs it on every activation: 3–4% of an airbench training step. Without
 * WebAssembly SIMD, wasm's own kernel.
 */
export const erfConfig: KernelConfig = {
  kernelName: Erf,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const kernel = productKernel();
    if (!kernel || x.dtype !== 'float32') return stockKernel(Erf)(args);
    const wasm = args.backend as WasmBackendLike;
    // Allocate first: growing the wasm heap detaches views taken before.
    const output = wasm.makeOutput(x.shape, 'float32');
    mapValues(
      kernel,
      'erf',
      [wasm.typedArrayFromHeap(x) as Float32Array],
      wasm.typedArrayFromHeap(output) as Float32Array,
    );
    return output;
  },
};

/**
 * dx = dy · (2/√π) · e^(−x²), the gradient of `Erf`, in one pass (the SIMD kernel's, or a JS loop without
 * WebAssembly SIMD); tfjs-core's formula runs five kernels (square, negate, exp, two products), as much
 * again as the forward `Erf` in a GELU network's step.
 */
export const erfGradConfig: KernelConfig = {
  kernelName: ERF_GRAD,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const wasm = backend as WasmBackendLike;
    const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
    const output = wasm.makeOutput(x.shape, 'float32');
    const gradient = wasm.typedArrayFromHeap(output) as Float32Array;
    const values = wasm.typedArrayFromHeap(x) as Float32Array;
    const outputGradient = wasm.typedArrayFromHeap(dy) as Float32Array;
    const kernel = productKernel();
    if (kernel) mapValues(kernel, 'erfGradient', [values, outputGradient], gradient);
    else
      for (let i = 0; i < gradient.length; i++) {
        const value = values[i] as number;
        gradient[i] = (outputGradient[i] as number) * TWO_OVER_SQRT_PI * Math.exp(-value * value);
      }
    return output;
  },
};
