import { beforeAll, describe, it, vi } from 'vitest';
import { registerWasmGradients } from '../src/index';
import { CASES, compareKernel, describeCase, forwardOutputShape } from './conv-cases';

// Where WebAssembly SIMD is missing, the filter gradient falls back to patches written in JS and XNNPACK
// products; this file runs it with the SIMD kernel unavailable.
vi.mock('../src/simd/reduction-product', () => ({ ReductionProduct: { start: () => undefined } }));

describe('Conv2DBackpropFilter without the SIMD kernel (XNNPACK products) matches the cpu backend', () => {
  beforeAll(() => {
    registerWasmGradients();
  });

  it(`over ${CASES.length} geometries`, async () => {
    for (const c of CASES) {
      await compareKernel(
        `Conv2DBackpropFilter ${describeCase(c)}`,
        'Conv2DBackpropFilter',
        { x: [c.batch, c.height, c.width, c.inChannels], dy: forwardOutputShape(c, false) },
        {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          dimRoundingMode: 'round',
          filterShape: [c.filter[0], c.filter[1], c.inChannels, c.outChannels],
        },
      );
    }
  });

  it('over a batch too large for one patch matrix (products of image groups, added)', async () => {
    // 5x5 taps x 16 channels x 64x64 positions is 1.6 M patch values an image: 5 images per product.
    await compareKernel(
      'Conv2DBackpropFilter x 6x64x64x16 f 5x5x16x2',
      'Conv2DBackpropFilter',
      { x: [6, 64, 64, 16], dy: [6, 64, 64, 2] },
      { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [5, 5, 16, 2] },
      { absolute: 1e-3, relative: 1e-5 },
    );
  });
});
