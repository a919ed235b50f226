import { beforeAll, describe, it, vi } from 'vitest';
import { registerWasmGradients } from '../src/index';
import { CASES, compareFilterGradientInParts, compareFilterGradientOverGrid } from './conv-cases';

// Where WebAssembly SIMD is missing, the filter gradient falls back to patches written in JS and XNNPACK
// products; this file runs it with the SIMD kernel unavailable.
vi.mock('../src/simd/reduction-product', () => ({ ReductionProduct: { start: () => undefined } }));

describe('Conv2DBackpropFilter without the SIMD kernel (XNNPACK products) matches the cpu backend', () => {
  beforeAll(() => {
    registerWasmGradients();
  });

  it(`over ${CASES.length} geometries`, compareFilterGradientOverGrid);

  it(
    'over a batch too large for one patch matrix (products of image groups, added)',
    compareFilterGradientInParts,
  );
});
