import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { watToBinaries } from '../scripts/wat.mjs';
import { productKernel, ReductionProduct } from '../src/simd/reduction-product';
import { PLAIN_MEMORY_WASM, SHARED_MEMORY_WASM } from '../src/simd/reduction-product.wasm';
import { randomValues } from './backends';
import { addColumns } from './product-columns';

/** C = A·B in float64, A [rows, depth] and B [depth, columns] row-major. */
function referenceProduct(
  a: Float32Array,
  b: Float32Array,
  rows: number,
  depth: number,
  columns: number,
): Float64Array {
  const c = new Float64Array(rows * columns);
  for (let row = 0; row < rows; row++)
    for (let k = 0; k < depth; k++)
      for (let column = 0; column < columns; column++)
        c[row * columns + column] =
          (c[row * columns + column] as number) +
          (a[row * depth + k] as number) * (b[k * columns + column] as number);
  return c;
}

function startProduct(rows: number, columns: number): ReductionProduct {
  const product = ReductionProduct.start(rows, columns, 1000, 1000 * rows);
  if (!product) throw new Error('WebAssembly SIMD is unavailable in this Node');
  return product;
}

describe('ReductionProduct (the WebAssembly SIMD kernel)', () => {
  it('ships the binaries its .wat source compiles to (run scripts/compile-wat.mjs after editing it)', async () => {
    const source = readFileSync(
      new URL('../src/simd/reduction-product.wat', import.meta.url),
      'utf8',
    );
    const { shared, unshared } = await watToBinaries(source, 'reduction-product.wat');
    expect(Buffer.from(shared).toString('base64')).toBe(SHARED_MEMORY_WASM);
    expect(Buffer.from(unshared).toString('base64')).toBe(PLAIN_MEMORY_WASM);
  });

  it('runs in a shared memory in Node, so helper threads can take shares', () => {
    expect(productKernel()?.shared).toBe(true);
  });

  it('refuses a part that would not fit in its memory (the caller then uses XNNPACK)', () => {
    expect(ReductionProduct.start(1024, 1024, 2 ** 28, 0)).toBeUndefined();
  });

  const shapes = [
    { rows: 4, depth: 1, columns: 8 }, // one tile, one step
    { rows: 1, depth: 3, columns: 1 }, // padded to a whole tile
    { rows: 27, depth: 1000, columns: 32 }, // a first layer: rows not a multiple of 4
    { rows: 9, depth: 70, columns: 10 }, // columns not a multiple of 8
    { rows: 64, depth: 5000, columns: 256 }, // depth walked in several chunks
  ];
  for (const { rows, depth, columns } of shapes) {
    it(`[${rows}, ${depth}] · [${depth}, ${columns}] matches a float64 product`, () => {
      const a = randomValues(rows * depth, 1);
      const b = randomValues(depth * columns, 2);
      const product = startProduct(rows, columns);
      addColumns(product, a, rows, depth, b, columns);
      const actual = product.result();
      const expected = referenceProduct(a, b, rows, depth, columns);
      expect(actual.length).toBe(rows * columns);
      const scale = Math.max(...expected.map(Math.abs));
      for (let index = 0; index < expected.length; index++)
        expect(Math.abs((actual[index] as number) - (expected[index] as number))).toBeLessThan(
          1e-5 * Math.max(1, scale),
        );
    });
  }

  it('adds up parts of the summed axis, and a new product starts from zero in reused memory', () => {
    const rows = 6;
    const columns = 11;
    const a = randomValues(rows * 300, 3);
    const b = randomValues(300 * columns, 4);
    const expected = referenceProduct(a, b, rows, 300, columns);
    // A large product first, so the second one runs in memory holding stale values everywhere.
    const large = startProduct(200, 200);
    addColumns(
      large,
      new Float32Array(200 * 400).fill(7),
      200,
      400,
      new Float32Array(400 * 200).fill(5),
      200,
    );
    const product = startProduct(rows, columns);
    for (const [from, to] of [
      [0, 100],
      [100, 101],
      [101, 300],
      [300, 300], // an empty part adds nothing
    ] as const)
      addColumns(product, a, rows, 300, b, columns, from, to);
    const actual = product.result();
    for (let index = 0; index < expected.length; index++)
      expect(actual[index]).toBeCloseTo(expected[index] as number, 4);
  });
});
