import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  KernelConfig,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { type ConvPad, filterGradientPadding, forwardConvInfo } from '../conv-geometry';
import { WasmGradError } from '../errors';
import {
  release,
  reshape,
  runWasmKernel,
  slice,
  transpose,
  type WasmBackendLike,
} from '../wasm-kernels';

/**
 * The filter gradient of a depthwise convolution (missing on wasm). For each channel c it is the
 * correlation of x[·,·,·,c] with dy[·,·,·,c] summed over the batch; laying batch and channel side by
 * side as the channels of one image makes that a single depthwise XNNPACK correlation (dilated by the
 * forward stride) followed by a sum over the batch.
 */
export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = backend as WasmBackendLike;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, dilations, pad, dimRoundingMode, filterShape } =
      attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
    const info = forwardConvInfo(
      x.shape,
      filterShape,
      strides,
      pad as ConvPad,
      dimRoundingMode,
      true,
      dilations,
    );
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
      throw new WasmGradError(
        'UNSUPPORTED_OPERATION',
        'Depthwise filter gradients with dilations > 1 are not supported (TF.js has none either): train with dilations of 1.',
      );
    }
    const [filterHeight, filterWidth, channels, multiplier] = filterShape;
    const outChannels = channels * multiplier;
    const batch = info.batchSize;

    // One input channel per (c, q) pair so that x lines up with dy's c·m channels.
    const repeated = multiplier === 1 ? x : repeatChannels(wasm, x, multiplier);
    const imageMajor = transpose(wasm, repeated, [1, 2, 3, 0]); // [h, w, c·m, b]
    if (repeated !== x) release(wasm, repeated);
    const asOneImage = reshape(wasm, imageMajor, [
      1,
      info.inHeight,
      info.inWidth,
      outChannels * batch,
    ]);
    release(wasm, imageMajor);
    const gradientMajor = transpose(wasm, dy, [1, 2, 3, 0]); // [oh, ow, c·m, b]
    const gradientAsFilter = reshape(wasm, gradientMajor, [
      info.outHeight,
      info.outWidth,
      outChannels * batch,
      1,
    ]);
    release(wasm, gradientMajor);

    const { explicitPad, needsTrim } = filterGradientPadding(info);
    const correlation = runWasmKernel(
      'DepthwiseConv2dNative',
      wasm,
      { x: asOneImage, filter: gradientAsFilter },
      {
        strides: [1, 1],
        pad: explicitPad,
        dilations: [info.strideHeight, info.strideWidth],
      },
    ); // [1, kh (+extra), kw (+extra), c·m·b]
    release(wasm, asOneImage, gradientAsFilter);
    const trimmed = needsTrim
      ? slice(wasm, correlation, [0, 0, 0, 0], [1, filterHeight, filterWidth, outChannels * batch])
      : correlation;
    if (trimmed !== correlation) release(wasm, correlation);
    const perBatch = reshape(wasm, trimmed, [filterHeight, filterWidth, outChannels, batch]);
    release(wasm, trimmed);
    const summed = runWasmKernel('Sum', wasm, { x: perBatch }, { axis: [3], keepDims: false });
    release(wasm, perBatch);
    const filterGradient = reshape(wasm, summed, [filterHeight, filterWidth, channels, multiplier]);
    release(wasm, summed);
    return filterGradient;
  },
};

/** [b, h, w, c] → [b, h, w, c·m] with each channel repeated m times in a row. */
function repeatChannels(wasm: WasmBackendLike, x: TensorInfo, multiplier: number): TensorInfo {
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const withAxis = reshape(wasm, x, [batch, height, width, channels, 1]);
  const tiled = runWasmKernel('Tile', wasm, { x: withAxis }, { reps: [1, 1, 1, 1, multiplier] });
  release(wasm, withAxis);
  const flat = reshape(wasm, tiled, [batch, height, width, channels * multiplier]);
  release(wasm, tiled);
  return flat;
}
