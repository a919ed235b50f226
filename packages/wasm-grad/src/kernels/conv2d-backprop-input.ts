import type { Conv2DBackpropInputAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { type ConvPad, forwardConvInfo } from '../conv-geometry';
import { transposedConvolution } from '../transposed-convolution';
import { release, runWasmKernel, type WasmBackendLike } from '../wasm-kernels';

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
    const swapped = flipAndSwapFilter(wasm, filter);
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

/**
 * [kh, kw, ci, co] → [KH−1−kh, KW−1−kw, co, ci] in one pass over the wasm heap. The wasm backend's
 * `Reverse` is an element-wise index computation that took longer than this whole gradient's
 * bookkeeping (≈0.1 s for a 3×3×512×512 filter); filters are small, so a JIT-compiled loop is enough.
 */
function flipAndSwapFilter(wasm: WasmBackendLike, filter: TensorInfo): TensorInfo {
  const [height, width, inChannels, outChannels] = filter.shape as [number, number, number, number];
  // Allocate first: growing the wasm heap detaches views taken before.
  const swapped = wasm.makeOutput([height, width, outChannels, inChannels], 'float32');
  const target = wasm.typedArrayFromHeap(swapped) as Float32Array;
  const source = wasm.typedArrayFromHeap(filter) as Float32Array;
  const tap = inChannels * outChannels;
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++) {
      const from = (row * width + column) * tap;
      const to = ((height - 1 - row) * width + (width - 1 - column)) * tap;
      for (let ci = 0; ci < inChannels; ci++) {
        const sourceRow = from + ci * outChannels;
        for (let co = 0; co < outChannels; co++) {
          target[to + co * inChannels + ci] = source[sourceRow + co] as number;
        }
      }
    }
  }
  return swapped;
}
