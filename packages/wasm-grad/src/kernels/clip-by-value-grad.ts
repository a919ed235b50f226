import type { ClipByValueAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from '../wasm-kernels';

/** Name of the wasm kernel behind this package's `ClipByValue` (ReLU6) gradient. */
export const CLIP_BY_VALUE_GRAD = 'ImgclsClipByValueGrad';

/**
 * dx = dy where clipValueMin ≤ x ≤ clipValueMax, else 0, in one pass over the wasm heap. tfjs-core's
 * gradient builds it from four kernels (two comparisons, a logical and, a select) plus a tensor of
 * zeros, a quarter of a MobileNetV2 training step on wasm, whose ReLU6 layers are clips.
 */
export const clipByValueGradConfig: KernelConfig = {
  kernelName: CLIP_BY_VALUE_GRAD,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = backend as WasmBackendLike;
    const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
    const { clipValueMin, clipValueMax } = attrs as unknown as ClipByValueAttrs;
    // Allocate first: growing the wasm heap detaches views taken before.
    const inputGradient = wasm.makeOutput(x.shape, 'float32');
    const gradient = wasm.typedArrayFromHeap(inputGradient) as Float32Array;
    const values = wasm.typedArrayFromHeap(x) as Float32Array;
    const outputGradient = wasm.typedArrayFromHeap(dy) as Float32Array;
    for (let i = 0; i < gradient.length; i++) {
      const value = values[i] as number;
      gradient[i] =
        value >= clipValueMin && value <= clipValueMax ? (outputGradient[i] as number) : 0;
    }
    return inputGradient;
  },
};
