import {
  backend_util,
  type KernelConfig,
  type MaxPoolGradAttrs,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { maxPoolGradient2x2 } from '../simd/max-pool';
import { productKernel } from '../simd/reduction-product';
import type { WasmBackendLike } from '../wasm-kernels';

/**
 * The gradient of max pooling, routed to the first maximum of each window in row-major order (the
 * cpu backend's and TensorFlow's choice on ties). The wasm backend's own kernel re-scans every window
 * for every input pixel; this one finds each window's maximum once and scatters: 2×2 windows at stride
 * 2 over channels in fours in the SIMD kernel (4 channels an instruction, on every thread), other
 * geometries in a JIT-compiled loop over the wasm heap.
 */
export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = backend as WasmBackendLike;
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    // Allocate first: growing the wasm heap detaches views taken before.
    const inputGradient = wasm.makeOutput(input.shape, 'float32');
    const gradientValues = wasm.typedArrayFromHeap(inputGradient) as Float32Array;
    const inputValues = wasm.typedArrayFromHeap(input) as Float32Array;
    const outputGradient = wasm.typedArrayFromHeap(dy) as Float32Array;
    const kernel = productKernel();
    const tiled = isTiled2x2(info);
    if (
      tiled &&
      kernel &&
      info.inChannels % 4 === 0 &&
      info.outHeight > 0 &&
      info.outWidth > 0 &&
      maxPoolGradient2x2(kernel, inputValues, outputGradient, gradientValues, {
        images: info.batchSize,
        inHeight: info.inHeight,
        inWidth: info.inWidth,
        channels: info.inChannels,
        outHeight: info.outHeight,
        outWidth: info.outWidth,
      })
    )
      return inputGradient;
    gradientValues.fill(0);
    if (tiled) scatterTiled2x2(inputValues, outputGradient, gradientValues, info);
    else scatterToWindowMaxima(inputValues, outputGradient, gradientValues, info);
    return inputGradient;
  },
};

/** dx[argmax of window] += dy[window] for every pooling window; pure, for testing on plain arrays. */
export function scatterToWindowMaxima(
  input: Float32Array,
  outputGradient: Float32Array,
  inputGradient: Float32Array,
  info: backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const rowStride = inWidth * inChannels;
  let outIndex = 0;
  for (let b = 0; b < batchSize; b++) {
    const batchOffset = b * inHeight * rowStride;
    for (let outRow = 0; outRow < outHeight; outRow++) {
      const rowStart = outRow * strideHeight - top;
      const rowFrom = Math.max(0, rowStart);
      const rowTo = Math.min(inHeight, rowStart + filterHeight);
      for (let outColumn = 0; outColumn < outWidth; outColumn++) {
        const columnStart = outColumn * strideWidth - left;
        const columnFrom = Math.max(0, columnStart);
        const columnTo = Math.min(inWidth, columnStart + filterWidth);
        for (let channel = 0; channel < inChannels; channel++, outIndex++) {
          let best = Number.NEGATIVE_INFINITY;
          let bestIndex = -1;
          for (let row = rowFrom; row < rowTo; row++) {
            let index = batchOffset + row * rowStride + columnFrom * inChannels + channel;
            for (let column = columnFrom; column < columnTo; column++, index += inChannels) {
              const value = input[index] as number;
              if (value > best || bestIndex < 0) {
                best = value;
                bestIndex = index;
              }
            }
          }
          if (bestIndex >= 0)
            inputGradient[bestIndex] =
              (inputGradient[bestIndex] as number) + (outputGradient[outIndex] as number);
        }
      }
    }
  }
}

/** 2×2 windows with stride 2, no padding, all inside the input: every network's pooling layer. */
function isTiled2x2(info: backend_util.Conv2DInfo): boolean {
  return (
    info.filterHeight === 2 &&
    info.filterWidth === 2 &&
    info.strideHeight === 2 &&
    info.strideWidth === 2 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    info.outHeight * 2 <= info.inHeight &&
    info.outWidth * 2 <= info.inWidth
  );
}

/**
 * {@link scatterToWindowMaxima} for {@link isTiled2x2} geometry, with the four taps unrolled and the
 * channels innermost (contiguous reads); same first-maximum rule, in the same row-major tap order.
 */
function scatterTiled2x2(
  input: Float32Array,
  outputGradient: Float32Array,
  inputGradient: Float32Array,
  info: backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const rowStride = inWidth * channels;
  let outIndex = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let outRow = 0; outRow < outHeight; outRow++) {
      const rowStart = (b * inHeight + 2 * outRow) * rowStride;
      for (let outColumn = 0; outColumn < outWidth; outColumn++) {
        const topLeft = rowStart + 2 * outColumn * channels;
        for (let channel = 0; channel < channels; channel++, outIndex++) {
          let bestIndex = topLeft + channel;
          let best = input[bestIndex] as number;
          const topRight = bestIndex + channels;
          if ((input[topRight] as number) > best) {
            best = input[topRight] as number;
            bestIndex = topRight;
          }
          const bottomLeft = topLeft + channel + rowStride;
          if ((input[bottomLeft] as number) > best) {
            best = input[bottomLeft] as number;
            bestIndex = bottomLeft;
          }
          const bottomRight = bottomLeft + channels;
          if ((input[bottomRight] as number) > best) bestIndex = bottomRight;
          inputGradient[bestIndex] = outputGradient[outIndex] as number;
        }
      }
    }
  }
}
