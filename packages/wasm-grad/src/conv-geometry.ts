import { backend_util } from '@tensorflow/tfjs-core';

/** Padding attribute of TF.js conv kernels: a mode, a single number, or explicit [before, after] per axis. */
export type ConvPad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

/**
 * Geometry of a forward 2-D convolution (regular or depthwise) as TF.js computes it, from the shapes
 * and attributes a gradient kernel receives. NHWC only: the wasm backend has no NCHW convolutions.
 */
export function forwardConvInfo(
  inputShape: readonly number[],
  filterShape: readonly number[],
  strides: number | [number, number],
  pad: ConvPad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
  dilations: number | [number, number] = 1,
): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    depthwise,
    'channelsLast',
  );
}

/**
 * The explicit padding that makes a stride-1 correlation over `inputSize` samples (dilated by
 * `dilation`) with a `taps`-long kernel produce at least `outputSize` outputs, given `before` samples
 * of padding in front. Returns [before, after, extraOutputs], with extraOutputs to slice away.
 */
export function paddingForOutput(
  inputSize: number,
  before: number,
  taps: number,
  dilation: number,
  outputSize: number,
): [number, number, number] {
  const span = (taps - 1) * dilation + 1;
  const after = Math.max(0, outputSize + span - 1 - inputSize - before);
  const produced = inputSize + before + after - span + 1;
  return [before, after, produced - outputSize];
}

/**
 * Padding of the filter-gradient correlation (x correlated with dy as the filter, dilated by the
 * forward stride) so that it yields at least the filter's height and width: NHWC explicit padding,
 * and whether the result has extra rows or columns to slice away.
 */
export function filterGradientPadding(info: backend_util.Conv2DInfo): {
  explicitPad: backend_util.ExplicitPadding;
  needsTrim: boolean;
} {
  const [top, bottom, extraRows] = paddingForOutput(
    info.inHeight,
    info.padInfo.top,
    info.outHeight,
    info.strideHeight,
    info.filterHeight,
  );
  const [left, right, extraColumns] = paddingForOutput(
    info.inWidth,
    info.padInfo.left,
    info.outWidth,
    info.strideWidth,
    info.filterWidth,
  );
  return {
    explicitPad: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
    needsTrim: extraRows > 0 || extraColumns > 0,
  };
}
