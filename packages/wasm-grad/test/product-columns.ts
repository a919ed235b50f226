import type { ReductionProduct } from '../src/simd/reduction-product';

/**
 * Adds A[:, from..to) · B[from..to, :] to the product, A [rows, depth] given as the patches of a 1×1
 * convolution: an input of one row of to − from pixels whose channels are A's rows.
 */
export function addColumns(
  product: ReductionProduct,
  a: Float32Array,
  rows: number,
  depth: number,
  b: Float32Array,
  columns: number,
  from = 0,
  to = depth,
): void {
  const pixels = to - from;
  const input = new Float32Array(pixels * rows);
  for (let pixel = 0; pixel < pixels; pixel++)
    for (let row = 0; row < rows; row++)
      input[pixel * rows + row] = a[row * depth + from + pixel] as number;
  product.accumulate(
    input,
    {
      images: 1,
      inHeight: 1,
      inWidth: pixels,
      inChannels: rows,
      outHeight: 1,
      outWidth: pixels,
      filterHeight: 1,
      filterWidth: 1,
      strideHeight: 1,
      strideWidth: 1,
      top: 0,
      left: 0,
    },
    b.subarray(from * columns, to * columns),
  );
}
