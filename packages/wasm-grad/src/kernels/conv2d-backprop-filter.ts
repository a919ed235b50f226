import type {
  backend_util,
  Conv2DBackpropFilterAttrs,
  KernelConfig,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { type ConvPad, forwardConvInfo } from '../conv-geometry';
import { ReductionProduct } from '../simd/reduction-product';
import { WinogradConvolution } from '../simd/winograd';
import { release, reshape, runWasmKernel, slice, type WasmBackendLike } from '../wasm-kernels';

/**
 * Patch matrices (with dy, for this package's kernel) are built for as many images at a time as fit in
 * this many values (32 MB), so a large batch costs a few products instead of gigabytes of wasm memory
 * (limited to 4 GB); measured, ResNet-9's largest layer is no slower in 32 MB products than in one 150 MB
 * product.
 */
const MAX_PATCH_VALUES = 2 ** 23;

/**
 * The filter gradient of a 2-D convolution, which the wasm backend lacks:
 * dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·s+kh−p, ow·s+kw−p, ci] · dy[b,oh,ow,co] (TF.js has no dilated
 * filter gradient), as one matrix product of the input's patches (one row per filter tap and input
 * channel, one column per output position) with dy as a [b·oh·ow, co] matrix, whose result is already in
 * the filter's layout.
 * This package's SIMD kernel ({@link ReductionProduct}) writes the patches and runs the product; where
 * WebAssembly SIMD is missing (or a part would not fit in the kernel's 1 GiB) the patches are written in
 * JS and XNNPACK multiplies. tfjs' XNNPACK product packs its second operand, here all of dy, on every
 * call (5–14 ns a value): on the seed CNN's first layer that took twice as long as the multiplications;
 * measured per layer on 2 threads, the SIMD kernel was 1.2–4.3× faster on every layer of the seed CNN and
 * ResNet-9 and 0.9–1.9× on MobileNetV2's 1×1 layers.
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
    const winograd = WinogradConvolution.forConvolution(info);
    if (winograd) {
      // Allocated first: growing the wasm heap detaches the views below.
      const filterGradient = wasm.makeOutput(filterShape, 'float32');
      winograd.filterGradient(
        wasm.typedArrayFromHeap(x) as Float32Array,
        wasm.typedArrayFromHeap(dy) as Float32Array,
        wasm.typedArrayFromHeap(filterGradient) as Float32Array,
      );
      return filterGradient;
    }
    const rows = info.filterHeight * info.filterWidth * info.inChannels;
    const positions = info.outHeight * info.outWidth;
    // Parts of the batch whose patches and dy fit in 32 MB, summed in the kernel's memory.
    const imagesPerPart = Math.max(
      1,
      Math.floor(MAX_PATCH_VALUES / ((rows + info.outChannels) * positions)),
    );
    const product = ReductionProduct.start(
      rows,
      info.outChannels,
      imagesPerPart * positions,
      imagesPerPart * info.inHeight * info.inWidth * info.inChannels,
    );
    return product
      ? reductionFilterGradient(wasm, x, dy, info, filterShape, product, imagesPerPart)
      : xnnpackFilterGradient(wasm, x, dy, info, filterShape);
  },
};

/** The filter gradient in this package's SIMD kernel, which writes the patches itself and reads dy as is. */
function reductionFilterGradient(
  wasm: WasmBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  filterShape: number[],
  product: ReductionProduct,
  imagesPerPart: number,
): TensorInfo {
  const positions = info.outHeight * info.outWidth;
  const imageValues = info.inHeight * info.inWidth * info.inChannels;
  const input = wasm.typedArrayFromHeap(x) as Float32Array;
  const outputGradient = wasm.typedArrayFromHeap(dy) as Float32Array;
  for (let first = 0; first < info.batchSize; first += imagesPerPart) {
    const images = Math.min(imagesPerPart, info.batchSize - first);
    product.accumulate(
      input.subarray(first * imageValues, (first + images) * imageValues),
      { ...info, images, top: info.padInfo.top, left: info.padInfo.left },
      outputGradient.subarray(
        first * positions * info.outChannels,
        (first + images) * positions * info.outChannels,
      ),
    );
  }
  // Allocated last: growing the wasm heap detaches the views above.
  const filterGradient = wasm.makeOutput(filterShape, 'float32');
  (wasm.typedArrayFromHeap(filterGradient) as Float32Array).set(product.result());
  return filterGradient;
}

/** The filter gradient as XNNPACK products, where the SIMD kernel is unavailable. */
function xnnpackFilterGradient(
  wasm: WasmBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  filterShape: number[],
): TensorInfo {
  const patchValuesPerImage =
    info.filterHeight * info.filterWidth * info.inChannels * info.outHeight * info.outWidth;
  const imagesPerProduct = Math.max(1, Math.floor(MAX_PATCH_VALUES / patchValuesPerImage));
  let gradientSum: TensorInfo | undefined;
  for (let first = 0; first < info.batchSize; first += imagesPerProduct) {
    const images = Math.min(imagesPerProduct, info.batchSize - first);
    const partial = patchProduct(wasm, x, dy, info, first, images);
    if (gradientSum === undefined) {
      gradientSum = partial;
      continue;
    }
    const sum = runWasmKernel('Add', wasm, { a: gradientSum, b: partial });
    release(wasm, gradientSum, partial);
    gradientSum = sum;
  }
  const filterGradient = reshape(wasm, gradientSum as TensorInfo, filterShape);
  release(wasm, gradientSum as TensorInfo);
  return filterGradient;
}

/** The filter gradient's contribution of `images` images from `first` on, as a [kh·kw·ci, co] matrix. */
function patchProduct(
  wasm: WasmBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  first: number,
  images: number,
): TensorInfo {
  const { outHeight, outWidth, outChannels } = info;
  // Allocate first: growing the wasm heap detaches views taken before.
  const patches = wasm.makeOutput(
    [info.filterHeight * info.filterWidth * info.inChannels, images * outHeight * outWidth],
    'float32',
  );
  writePatchRows(
    wasm.typedArrayFromHeap(patches) as Float32Array,
    wasm.typedArrayFromHeap(x) as Float32Array,
    info,
    first,
    images,
  );
  const imagesGradient =
    images === info.batchSize
      ? dy
      : slice(wasm, dy, [first, 0, 0, 0], [images, outHeight, outWidth, outChannels]);
  const gradientRows = reshape(wasm, imagesGradient, [images * outHeight * outWidth, outChannels]);
  if (imagesGradient !== dy) release(wasm, imagesGradient);
  const product = runWasmKernel(
    'BatchMatMul',
    wasm,
    { a: patches, b: gradientRows },
    { transposeA: false, transposeB: false },
  );
  release(wasm, patches, gradientRows);
  return product;
}

/**
 * Writes into `rows` the [kh·kw·ci, images·oh·ow] matrix whose row (kh, kw, ci) holds, for every output
 * position of the images from `first` on, the input value that filter tap meets there (zero in the
 * padding), in one pass.
 */
function writePatchRows(
  rows: Float32Array,
  input: Float32Array,
  info: backend_util.Conv2DInfo,
  first: number,
  images: number,
): void {
  const { inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const columns = images * outHeight * outWidth;
  // One output row (image, oh) at a time: its few input rows stay in cache while every patch row
  // receives its outWidth consecutive values.
  for (let image = 0; image < images; image++) {
    for (let outRow = 0; outRow < outHeight; outRow++) {
      const firstColumn = (image * outHeight + outRow) * outWidth;
      let patchRow = 0;
      for (let kh = 0; kh < info.filterHeight; kh++) {
        const row = outRow * strideHeight + kh - top;
        const rowInside = row >= 0 && row < inHeight;
        const rowStart = ((first + image) * inHeight + row) * inWidth * inChannels;
        for (let kw = 0; kw < info.filterWidth; kw++) {
          const columnOffset = kw - left;
          // Output columns whose input column lies inside the row: [inFrom, inTo); zeros around.
          const inFrom = Math.min(outWidth, Math.max(0, Math.ceil(-columnOffset / strideWidth)));
          const inTo = Math.max(
            inFrom,
            Math.min(outWidth, Math.ceil((inWidth - columnOffset) / strideWidth)),
          );
          const step = strideWidth * inChannels;
          for (let channel = 0; channel < inChannels; channel++, patchRow++) {
            const rowIndex = patchRow * columns + firstColumn;
            if (!rowInside) {
              rows.fill(0, rowIndex, rowIndex + outWidth);
              continue;
            }
            // Plain loops: the runs of padding are a value or two, too short for fill().
            for (let index = rowIndex; index < rowIndex + inFrom; index++) rows[index] = 0;
            let from = rowStart + (inFrom * strideWidth + columnOffset) * inChannels + channel;
            for (let index = rowIndex + inFrom; index < rowIndex + inTo; index++, from += step)
              rows[index] = input[from] as number;
            for (let index = rowIndex + inTo; index < rowIndex + outWidth; index++) rows[index] = 0;
          }
        }
      }
    }
  }
}
