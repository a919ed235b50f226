import { backend_util } from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { scatterToWindowMaxima } from '../src/kernels/max-pool-grad';
import { mapValues } from '../src/simd/elementwise';
import { maxPoolGradient2x2 } from '../src/simd/max-pool';
import { startProductHelpers } from '../src/simd/node-helpers';
import { type ProductKernel, productKernel, ReductionProduct } from '../src/simd/reduction-product';
import { randomValues } from './backends';
import { addColumns } from './product-columns';

describe('ReductionProduct with a helper thread', () => {
  afterAll(async () => {
    await startProductHelpers(0);
  });

  for (const { rows, depth, columns } of [
    { rows: 27, depth: 700, columns: 32 }, // 7 tiles of rows: 3 here, 4 on the helper; patch rows 13 + 14
    { rows: 4, depth: 50, columns: 8 }, // a single tile: the helper writes patch rows only
    { rows: 130, depth: 333, columns: 10 },
  ]) {
    it(`[${rows}, ${depth}] · [${depth}, ${columns}] split between two threads matches one thread`, async () => {
      const a = randomValues(rows * depth, 5);
      const b = randomValues(depth * columns, 6);
      const run = () => {
        const product = ReductionProduct.start(
          rows,
          columns,
          depth,
          depth * rows,
        ) as ReductionProduct;
        addColumns(product, a, rows, depth, b, columns);
        addColumns(product, a, rows, depth, b, columns); // twice: the helper takes more jobs
        return product.result();
      };
      await startProductHelpers(0);
      const alone = run();
      expect(await startProductHelpers(1)).toHaveLength(1);
      // Each value is summed in the same order by whichever thread owns its row: identical results.
      expect(Array.from(run())).toEqual(Array.from(alone));
    });
  }

  it('erf and its gradient shared between two threads match one thread, bit for bit', async () => {
    const x = randomValues(70_003, 9).map((value) => value * 5);
    const dy = randomValues(70_003, 10);
    const run = () => {
      const kernel = productKernel() as ProductKernel;
      const erf = new Float32Array(x.length);
      const gradient = new Float32Array(x.length);
      mapValues(kernel, 'erf', [x], erf);
      mapValues(kernel, 'erfGradient', [x, dy], gradient);
      return [...erf, ...gradient];
    };
    await startProductHelpers(0);
    const alone = run();
    expect(await startProductHelpers(1)).toHaveLength(1);
    expect(run()).toEqual(alone);
  });

  it('the 2x2 max-pool gradient over several parts and two threads matches the one-pass JS loop', async () => {
    // 25 images of 64x64x64 need two parts of the kernel's memory; odd sizes leave a row and column out.
    for (const [height, width] of [
      [64, 64],
      [9, 7],
    ] as const) {
      const pool = { images: 25, inHeight: height, inWidth: width, channels: 64 };
      const outHeight = Math.floor(height / 2);
      const outWidth = Math.floor(width / 2);
      const input = randomValues(25 * height * width * 64, 11).map((value) => Math.max(0, value)); // ties
      const dy = randomValues(25 * outHeight * outWidth * 64, 12);
      const expected = new Float32Array(input.length);
      scatterToWindowMaxima(input, dy, expected, {
        ...backend_util.computePool2DInfo([25, height, width, 64], [2, 2], [2, 2], 1, 'valid'),
      });
      await startProductHelpers(1);
      const actual = new Float32Array(input.length).fill(Number.NaN);
      const kernel = productKernel() as ProductKernel;
      expect(maxPoolGradient2x2(kernel, input, dy, actual, { ...pool, outHeight, outWidth })).toBe(
        true,
      );
      // Bit for bit (a byte comparison: deep equality of 6.5 M values takes most of a minute).
      expect(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    }
  });

  it('reports a helper whose share failed as KERNEL_THREAD_FAILED, then runs products without helpers', async () => {
    const [helper] = await startProductHelpers(1);
    // A share reading far outside the kernel's memory traps on the helper's thread.
    helper?.start('accumulate', [2 ** 30, 0, 0, 4, 8, 8, 8, 32, 4]);
    expect(() => helper?.finish()).toThrow(
      expect.objectContaining({ code: 'KERNEL_THREAD_FAILED' }),
    );
    const a = randomValues(27 * 50, 7);
    const b = randomValues(50 * 8, 8);
    const product = ReductionProduct.start(27, 8, 50, 50 * 27) as ReductionProduct;
    addColumns(product, a, 27, 50, b, 8);
    expect(product.result().every(Number.isFinite)).toBe(true);
  });
});
