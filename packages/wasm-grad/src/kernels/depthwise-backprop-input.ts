import type {
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelConfig,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { type ConvPad, forwardConvInfo } from '../conv-geometry';
import { transposedConvolution } from '../transposed-convolution';
import { release, reshape, runWasmKernel, type WasmBackendLike } from '../wasm-kernels';

/**
 * The input gradient of a depthwise convolution (missing on wasm): a depthwise XNNPACK correlation of
 * the stride-dilated gradient with the flipped filter, one channel per (input channel, multiplier)
 * pair, summed over the multiplier.
 */
export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = backend as WasmBackendLike;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, dilations, pad, dimRoundingMode, inputShape } =
      attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
    const info = forwardConvInfo(
      inputShape,
      filter.shape,
      strides,
      pad as ConvPad,
      dimRoundingMode,
      true,
      dilations,
    );
    const [filterHeight, filterWidth, channels, multiplier] = filter.shape as [
      number,
      number,
      number,
      number,
    ];
    const flipped = runWasmKernel('Reverse', wasm, { x: filter }, { dims: [0, 1] });
    const perOutputChannel = reshape(wasm, flipped, [
      filterHeight,
      filterWidth,
      channels * multiplier,
      1,
    ]);
    release(wasm, flipped);
    const expanded = transposedConvolution(wasm, dy, info, (dilated, explicitPad) =>
      runWasmKernel(
        'DepthwiseConv2dNative',
        wasm,
        { x: dilated, filter: perOutputChannel },
        { strides: [1, 1], pad: explicitPad, dilations: [info.dilationHeight, info.dilationWidth] },
      ),
    ); // [b, h, w, c·m]
    release(wasm, perOutputChannel);
    if (multiplier === 1) return expanded;
    const split = reshape(wasm, expanded, [
      info.batchSize,
      info.inHeight,
      info.inWidth,
      channels,
      multiplier,
    ]);
    release(wasm, expanded);
    const summed = runWasmKernel('Sum', wasm, { x: split }, { axis: [4], keepDims: false });
    release(wasm, split);
    return summed;
  },
};
