import type { Conv2DBackpropFilterAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { type ConvPad, filterGradientPadding, forwardConvInfo } from '../conv-geometry';
import { release, runWasmKernel, slice, transpose, type WasmBackendLike } from '../wasm-kernels';

/**
 * The filter gradient of a 2-D convolution, which the wasm backend lacks, as one fast XNNPACK
 * convolution: dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·s+kh−p, ow·s+kw−p, ci] · dy[b,oh,ow,co] is a
 * correlation of x (channels ci as batch, batch b as channels) with dy as the filter, dilated by the
 * forward stride.
 */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = backend as WasmBackendLike;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dimRoundingMode, filterShape } =
      attrs as unknown as Conv2DBackpropFilterAttrs;
    const info = forwardConvInfo(
      x.shape,
      filterShape,
      strides,
      pad as ConvPad,
      dimRoundingMode,
      false,
    );
    const [filterHeight, filterWidth, inChannels, outChannels] = filterShape;

    const { explicitPad, needsTrim } = filterGradientPadding(info);
    const channelsAsBatch = transpose(wasm, x, [3, 1, 2, 0]); // [ci, h, w, b]
    const gradientAsFilter = transpose(wasm, dy, [1, 2, 0, 3]); // [oh, ow, b, co]
    const correlation = runWasmKernel(
      'Conv2D',
      wasm,
      { x: channelsAsBatch, filter: gradientAsFilter },
      {
        strides: [1, 1],
        pad: explicitPad,
        dataFormat: 'NHWC',
        dilations: [info.strideHeight, info.strideWidth],
      },
    ); // [ci, kh (+extra), kw (+extra), co]
    release(wasm, channelsAsBatch, gradientAsFilter);
    let trimmed = correlation;
    if (needsTrim) {
      trimmed = slice(
        wasm,
        correlation,
        [0, 0, 0, 0],
        [inChannels, filterHeight, filterWidth, outChannels],
      );
      release(wasm, correlation);
    }
    const filterGradient = transpose(wasm, trimmed, [1, 2, 0, 3]);
    release(wasm, trimmed);
    return filterGradient;
  },
};
