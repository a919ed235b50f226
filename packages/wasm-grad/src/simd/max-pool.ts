import {
  fitsKernelMemory,
  growMemory,
  kernelValues,
  type ProductKernel,
  runOnThreads,
} from './reduction-product';

/** Values of one part (the images' x, dy and dx together, 48 MB): a batch is taken in parts this size. */
const PART_VALUES = 12 << 20;

/** A 2×2 max pooling at stride 2 without padding, NHWC. */
export interface TiledPool {
  readonly images: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly channels: number;
  readonly outHeight: number;
  readonly outWidth: number;
}

/**
 * The gradient of a 2×2 max pooling at stride 2 without padding (channels a multiple of 4, output at least
 * 1×1) in the SIMD kernel: `inputGradient` gets each window's dy at its first maximum and 0 everywhere else,
 * inputs in no window included. Images go in parts of ≤ 48 MB, each part's output rows shared between
 * threads. Returns false, writing nothing, when one image would not fit in the kernel's memory.
 */
export function maxPoolGradient2x2(
  kernel: ProductKernel,
  input: Float32Array,
  outputGradient: Float32Array,
  inputGradient: Float32Array,
  pool: TiledPool,
): boolean {
  const imageValues = pool.inHeight * pool.inWidth * pool.channels;
  const dyImageValues = pool.outHeight * pool.outWidth * pool.channels;
  const valuesPerImage = 2 * imageValues + dyImageValues;
  if (!fitsKernelMemory(valuesPerImage)) return false;
  const partImages = Math.min(pool.images, Math.max(1, Math.floor(PART_VALUES / valuesPerImage)));
  // x, dy and dx of a part, one after the other.
  const dyStart = partImages * imageValues;
  const dxStart = dyStart + partImages * dyImageValues;
  growMemory(kernel, dxStart + partImages * imageValues);
  const covered = 2 * pool.outHeight === pool.inHeight && 2 * pool.outWidth === pool.inWidth;
  for (let first = 0; first < pool.images; first += partImages) {
    const count = Math.min(partImages, pool.images - first);
    const values = kernelValues(kernel);
    values.set(input.subarray(first * imageValues, (first + count) * imageValues), 0);
    values.set(
      outputGradient.subarray(first * dyImageValues, (first + count) * dyImageValues),
      dyStart,
    );
    // The last row or column of an odd size is in no window: its gradient is 0.
    if (!covered) values.fill(0, dxStart, dxStart + count * imageValues);
    runOnThreads(kernel, 'maxPoolGradient', count * pool.outHeight, 1, (from, to) => [
      0,
      dyStart * 4,
      dxStart * 4,
      pool.inHeight,
      pool.inWidth,
      pool.channels,
      pool.outHeight,
      pool.outWidth,
      from,
      to,
    ]);
    inputGradient.set(values.subarray(dxStart, dxStart + count * imageValues), first * imageValues);
  }
  return true;
}
