import type { backend_util } from '@tensorflow/tfjs-core';
import {
  fitsKernelMemory,
  growMemory,
  kernelValues,
  type ProductKernel,
  productKernel,
  runOnThreads,
} from './reduction-product';

/** The 16 positions of Winograd F(2×2, 3×3)'s 4×4 transforms: one product per position. */
const POSITIONS = 16;
/** `accumulate` computes 4 rows (tiles) at a time. */
const TILE_ROWS = 4;
/** Depth walked per pass, in values of U (≈ 64 KB), as in the filter gradient's products. */
const CHUNK_VALUES = 16384;
/**
 * Images are transformed and multiplied in parts whose V and M fit in this many values (32 MB), so a
 * large batch needs no more memory than a small one.
 */
const MAX_PART_VALUES = 2 ** 23;

/**
 * A stride-1, undilated convolution of an NHWC input with a 3×3 HWIO filter, as TF.js describes it
 * (its Conv2DInfo fields): the output is outHeight × outWidth, `top` rows and `left` columns of zero
 * padding lie before the input.
 */
export interface WinogradGeometry {
  readonly batchSize: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly outChannels: number;
  readonly top: number;
  readonly left: number;
}

/**
 * A 3×3 convolution at stride 1 by Winograd's F(2×2, 3×3) in this package's WebAssembly SIMD kernel
 * (`reduction-product.wat`): each 2×2 block of outputs takes 16 multiplications per input and output
 * channel pair instead of the direct method's 36, and the 16 products run in the same `accumulate` as
 * the filter gradient, which measured 22 GMAC/s on one thread here against XNNPACK's direct convolution's
 * 13–17. {@link WinogradConvolution.filterGradient} computes the same convolution's filter gradient
 * with the same transforms. With helper threads each thread takes a share of every step. Needs
 * inChannels a multiple of 4 and outChannels of 8 (the kernel's vector and tile widths).
 */
export class WinogradConvolution {
  private constructor(
    private readonly kernel: ProductKernel,
    private readonly geometry: WinogradGeometry,
    private readonly imagesPerPart: number,
  ) {}

  /**
   * The plan for a convolution TF.js describes, where it is one this kernel takes: a 3×3 filter at
   * stride 1, undilated, with a non-empty output (and the conditions of {@link WinogradConvolution.plan}).
   */
  static forConvolution(info: backend_util.Conv2DInfo): WinogradConvolution | undefined {
    if (
      info.filterHeight !== 3 ||
      info.filterWidth !== 3 ||
      info.strideHeight !== 1 ||
      info.strideWidth !== 1 ||
      info.dilationHeight !== 1 ||
      info.dilationWidth !== 1 ||
      info.batchSize === 0 ||
      info.outHeight <= 0 ||
      info.outWidth <= 0
    )
      return undefined;
    return WinogradConvolution.plan({ ...info, top: info.padInfo.top, left: info.padInfo.left });
  }

  /**
   * The convolution, or undefined where WebAssembly SIMD is unavailable, the channel counts do not
   * suit the kernel, or one image's part would not fit in its memory.
   */
  static plan(geometry: WinogradGeometry): WinogradConvolution | undefined {
    const g = geometry;
    if (g.inChannels % 4 !== 0 || g.outChannels % 8 !== 0) return undefined;
    const kernel = productKernel();
    if (!kernel) return undefined;
    const tilesPerImage = Math.ceil(g.outHeight / 2) * Math.ceil(g.outWidth / 2);
    const partValuesPerImage = POSITIONS * tilesPerImage * (g.inChannels + g.outChannels);
    const imagesPerPart = Math.max(
      1,
      Math.min(g.batchSize, Math.floor(MAX_PART_VALUES / partValuesPerImage)),
    );
    const convolution = new WinogradConvolution(kernel, g, imagesPerPart);
    const end = Math.max(convolution.layout().end, convolution.gradientLayout().end);
    return fitsKernelMemory(end) ? convolution : undefined;
  }

  /**
   * Writes the convolution of `x` (NHWC) with `filter` (3×3 HWIO), plus `bias` (outChannels values)
   * when given, then max(0, ·) when `relu`, into `output` (NHWC).
   */
  run(
    x: Float32Array,
    filter: Float32Array,
    bias: Float32Array | undefined,
    relu: boolean,
    output: Float32Array,
  ): void {
    const { kernel, geometry: g, imagesPerPart } = this;
    const at = this.layout();
    growMemory(kernel, at.end);
    const values = kernelValues(kernel);
    values.fill(0, at.zeros, at.filter);
    if (bias) values.set(bias.subarray(0, g.outChannels), at.bias);
    values.set(filter.subarray(0, 9 * g.inChannels * g.outChannels), at.filter);
    const filterPlane = g.inChannels * g.outChannels * 4;
    runOnThreads(kernel, 'winogradFilter', g.inChannels, 1, (first, last) => [
      at.filter * 4,
      at.u * 4,
      g.inChannels,
      g.outChannels,
      filterPlane,
      first,
      last,
    ]);
    const tilesHigh = Math.ceil(g.outHeight / 2);
    const tilesWide = Math.ceil(g.outWidth / 2);
    const inputImage = g.inHeight * g.inWidth * g.inChannels;
    const outputImage = g.outHeight * g.outWidth * g.outChannels;
    const chunk = Math.max(TILE_ROWS, Math.floor(CHUNK_VALUES / g.outChannels));
    for (let firstImage = 0; firstImage < g.batchSize; firstImage += imagesPerPart) {
      const images = Math.min(imagesPerPart, g.batchSize - firstImage);
      const tiles = images * tilesHigh * tilesWide;
      const rows = Math.ceil(tiles / TILE_ROWS) * TILE_ROWS;
      values.set(x.subarray(firstImage * inputImage, (firstImage + images) * inputImage), at.input);
      const vPlane = rows * g.inChannels * 4;
      const mPlane = rows * g.outChannels * 4;
      this.transformInput(at.input, at.v, at.zeros, tiles, vPlane);
      runOnThreads(kernel, 'winogradProducts', rows, TILE_ROWS, (first, last) => [
        at.v * 4,
        at.u * 4,
        at.m * 4,
        g.inChannels,
        g.outChannels,
        chunk,
        vPlane,
        filterPlane,
        mPlane,
        first,
        last,
      ]);
      runOnThreads(kernel, 'winogradOutput', tiles, 1, (first, last) => [
        at.m * 4,
        at.output * 4,
        (bias ? at.bias : at.zeros) * 4,
        g.outHeight,
        g.outWidth,
        g.outChannels,
        tilesHigh,
        tilesWide,
        mPlane,
        relu ? 1 : 0,
        first,
        last,
      ]);
      output.set(
        values.subarray(at.output, at.output + images * outputImage),
        firstImage * outputImage,
      );
    }
  }

  /**
   * Writes the filter gradient (3×3 HWIO) of this convolution into `output`, given its input `x` and
   * output gradient `dy` (NHWC): dU[ξ] = Σ V[ξ]ᵀ · dM[ξ] over every tile of the batch, then Gᵀ dU G.
   */
  filterGradient(x: Float32Array, dy: Float32Array, output: Float32Array): void {
    const { kernel, geometry: g, imagesPerPart } = this;
    const at = this.gradientLayout();
    growMemory(kernel, at.end);
    const values = kernelValues(kernel);
    values.fill(0, at.zeros, at.input);
    const tilesHigh = Math.ceil(g.outHeight / 2);
    const tilesWide = Math.ceil(g.outWidth / 2);
    const inputImage = g.inHeight * g.inWidth * g.inChannels;
    const gradientImage = g.outHeight * g.outWidth * g.outChannels;
    const duPlane = g.inChannels * g.outChannels * 4;
    const chunk = Math.max(TILE_ROWS, Math.floor(CHUNK_VALUES / g.outChannels));
    for (let firstImage = 0; firstImage < g.batchSize; firstImage += imagesPerPart) {
      const images = Math.min(imagesPerPart, g.batchSize - firstImage);
      const tiles = images * tilesHigh * tilesWide;
      const vPlane = Math.ceil(tiles / TILE_ROWS) * TILE_ROWS * g.inChannels * 4;
      const dmPlane = tiles * g.outChannels * 4;
      values.set(x.subarray(firstImage * inputImage, (firstImage + images) * inputImage), at.input);
      values.set(
        dy.subarray(firstImage * gradientImage, (firstImage + images) * gradientImage),
        at.dy,
      );
      this.transformInput(at.input, at.v, at.zeros, tiles, vPlane);
      runOnThreads(kernel, 'winogradOutputGradient', tiles, 1, (first, last) => [
        at.dy * 4,
        at.dm * 4,
        g.outHeight,
        g.outWidth,
        g.outChannels,
        tilesHigh,
        tilesWide,
        tiles,
        dmPlane,
        first,
        last,
      ]);
      runOnThreads(kernel, 'winogradGradientProducts', g.inChannels, TILE_ROWS, (first, last) => [
        at.v * 4,
        at.dm * 4,
        at.du * 4,
        g.inChannels,
        tiles,
        g.outChannels,
        chunk,
        vPlane,
        dmPlane,
        duPlane,
        first,
        last,
      ]);
    }
    runOnThreads(kernel, 'winogradFilterGradient', g.inChannels, 1, (first, last) => [
      at.du * 4,
      at.dw * 4,
      g.inChannels,
      g.outChannels,
      duPlane,
      first,
      last,
    ]);
    output.set(values.subarray(at.dw, at.dw + 9 * g.inChannels * g.outChannels));
  }

  /** V = Bᵀ d B for `tiles` tiles of the part's input at `input`, into `v` (addresses in floats). */
  private transformInput(
    input: number,
    v: number,
    zeros: number,
    tiles: number,
    vPlane: number,
  ): void {
    const g = this.geometry;
    runOnThreads(this.kernel, 'winogradInput', tiles, 1, (first, last) => [
      input * 4,
      v * 4,
      zeros * 4,
      g.inHeight,
      g.inWidth,
      g.inChannels,
      Math.ceil(g.outHeight / 2),
      Math.ceil(g.outWidth / 2),
      g.top,
      g.left,
      vPlane,
      first,
      last,
    ]);
  }

  /** Rows of V and M for a part: one per tile, padded to `accumulate`'s 4. */
  private partRows(): number {
    const g = this.geometry;
    const tiles = this.imagesPerPart * Math.ceil(g.outHeight / 2) * Math.ceil(g.outWidth / 2);
    return Math.ceil(tiles / TILE_ROWS) * TILE_ROWS;
  }

  /**
   * The filter gradient's operands in the kernel's memory, in floats: zeros (taps in the padding), dU,
   * dg, and one part's input, output gradient, V and dM.
   */
  private gradientLayout() {
    const g = this.geometry;
    const rows = this.partRows();
    const zeros = 0;
    const du = zeros + g.inChannels;
    const dw = du + POSITIONS * g.inChannels * g.outChannels;
    const input = dw + 9 * g.inChannels * g.outChannels;
    const dy = input + this.imagesPerPart * g.inHeight * g.inWidth * g.inChannels;
    const v = dy + this.imagesPerPart * g.outHeight * g.outWidth * g.outChannels;
    const dm = v + POSITIONS * rows * g.inChannels;
    const end = dm + POSITIONS * rows * g.outChannels;
    return { zeros, du, dw, input, dy, v, dm, end };
  }

  /**
   * Where each operand lives in the kernel's memory, in floats (all multiples of 4, so every address is
   * 16-byte aligned): zeros (taps in the padding, the absent bias), the bias, the filter, U, and one
   * part's input, V, M and output.
   */
  private layout() {
    const g = this.geometry;
    const rows = this.partRows();
    const zeros = 0;
    const bias = zeros + Math.max(g.inChannels, g.outChannels);
    const filter = bias + g.outChannels;
    const u = filter + 9 * g.inChannels * g.outChannels;
    const input = u + POSITIONS * g.inChannels * g.outChannels;
    const v = input + this.imagesPerPart * g.inHeight * g.inWidth * g.inChannels;
    const m = v + POSITIONS * rows * g.inChannels;
    const output = m + POSITIONS * rows * g.outChannels;
    const end = output + this.imagesPerPart * g.outHeight * g.outWidth * g.outChannels;
    return { zeros, bias, filter, u, input, v, m, output, end };
  }
}
