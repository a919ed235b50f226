import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { paddingForOutput } from './conv-geometry';
import { padZeros, release, reshape, slice, type WasmBackendLike } from './wasm-kernels';

/** Runs a stride-1 forward correlation over `input` with explicit NHWC padding. */
export type Correlate = (
  input: TensorInfo,
  explicitPad: backend_util.ExplicitPadding,
) => TensorInfo;

/**
 * The input gradient of a forward convolution described by `info`, given its output gradient `dy`:
 * dy is dilated by the forward stride (zeros between samples), padded so that a stride-1 correlation
 * with the flipped filter (done by `correlate`) lands on the forward input's grid, then trimmed to the
 * input's height and width. Shared by regular and depthwise convolutions.
 */
export function transposedConvolution(
  backend: WasmBackendLike,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  correlate: Correlate,
): TensorInfo {
  const dilated = dilateSpatially(backend, dy, info.strideHeight, info.strideWidth);
  const [, dilatedHeight, dilatedWidth] = dilated.shape as [number, number, number, number];
  // Forward: input row h meets filter row kh at output row oh where oh·s = h + top − kh. In the
  // dilated gradient that is row h + top − kh, so with the flipped filter (kh' = KH−1−kh) a stride-1
  // correlation needs KH−1−top rows of padding in front; a negative amount means cropping.
  const frontRows = info.effectiveFilterHeight - 1 - info.padInfo.top;
  const frontColumns = info.effectiveFilterWidth - 1 - info.padInfo.left;
  const cropped =
    frontRows < 0 || frontColumns < 0
      ? slice(
          backend,
          dilated,
          [0, Math.max(0, -frontRows), Math.max(0, -frontColumns), 0],
          [
            dilated.shape[0] as number,
            dilatedHeight - Math.max(0, -frontRows),
            dilatedWidth - Math.max(0, -frontColumns),
            dilated.shape[3] as number,
          ],
        )
      : dilated;
  if (cropped !== dilated) release(backend, dilated);
  const [top, bottom, extraRows] = paddingForOutput(
    cropped.shape[1] as number,
    Math.max(0, frontRows),
    info.filterHeight,
    info.dilationHeight,
    info.inHeight,
  );
  const [left, right, extraColumns] = paddingForOutput(
    cropped.shape[2] as number,
    Math.max(0, frontColumns),
    info.filterWidth,
    info.dilationWidth,
    info.inWidth,
  );
  const correlation = correlate(cropped, [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ]);
  release(backend, cropped);
  if (extraRows === 0 && extraColumns === 0) return correlation;
  const trimmed = slice(
    backend,
    correlation,
    [0, 0, 0, 0],
    [info.batchSize, info.inHeight, info.inWidth, correlation.shape[3] as number],
  );
  release(backend, correlation);
  return trimmed;
}

/**
 * Inserts `strideHeight − 1` zero rows and `strideWidth − 1` zero columns after every sample of an
 * NHWC tensor (trailing zeros included: they only add padding the caller trims). Returns a new
 * TensorInfo the caller owns, even for stride 1.
 */
export function dilateSpatially(
  backend: WasmBackendLike,
  x: TensorInfo,
  strideHeight: number,
  strideWidth: number,
): TensorInfo {
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const spread = reshape(backend, x, [batch, height, 1, width, 1, channels]);
  if (strideHeight === 1 && strideWidth === 1) {
    const same = reshape(backend, spread, [batch, height, width, channels]);
    release(backend, spread);
    return same;
  }
  const padded = padZeros(backend, spread, [
    [0, 0],
    [0, 0],
    [0, strideHeight - 1],
    [0, 0],
    [0, strideWidth - 1],
    [0, 0],
  ]);
  release(backend, spread);
  const dilated = reshape(backend, padded, [
    batch,
    height * strideHeight,
    width * strideWidth,
    channels,
  ]);
  release(backend, padded);
  return dilated;
}
