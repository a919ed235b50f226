import type { Conv2DBackpropInputAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { type ConvPad, forwardConvInfo } from '../conv-geometry';
import { transposedConvolution } from '../transposed-convolution';
import { release, runWasmKernel, transpose, type WasmBackendLike } from '../wasm-kernels';

/**
 * The input gradient of a 2-D convolution. The wasm backend's own kernel is a scalar loop about ten
 * times slower than the forward convolution; this one is a forward XNNPACK convolution of the
 * stride-dilated gradient with the spatially flipped, in/out-swapped filter.
 */
export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = backend as WasmBackendLike;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dimRoundingMode, inputShape } =
      attrs as unknown as Conv2DBackpropInputAttrs;
    const info = forwardConvInfo(
      inputShape,
      filter.shape,
      strides,
      pad as ConvPad,
      dimRoundingMode,
      false,
    );
    const flipped = runWasmKernel('Reverse', wasm, { x: filter }, { dims: [0, 1] });
    const swapped = transpose(wasm, flipped, [0, 1, 3, 2]); // [kh, kw, co, ci]
    release(wasm, flipped);
    const inputGradient = transposedConvolution(wasm, dy, info, (dilated, explicitPad) =>
      runWasmKernel(
        'Conv2D',
        wasm,
        { x: dilated, filter: swapped },
        { strides: [1, 1], pad: explicitPad, dataFormat: 'NHWC', dilations: [1, 1] },
      ),
    );
    release(wasm, swapped);
    return inputGradient;
  },
};
