import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { WasmGradError } from '../src/index';
import { stockKernel } from '../src/stock-kernels';
import { runWasmKernel, type WasmBackendLike } from '../src/wasm-kernels';

const IMGCLS_ERROR_MARKER = Symbol.for('imgcls.error');

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('WasmGradError', () => {
  it('is thrown, with KERNEL_NOT_REGISTERED and what to import, for a kernel wasm does not have', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as WasmBackendLike;
    for (const run of [
      () => runWasmKernel('NoSuchKernel', backend, {}),
      () => stockKernel('NoSuchKernel'),
    ]) {
      const error = caught(run);
      expect(error).toBeInstanceOf(WasmGradError);
      expect(error).toMatchObject({ code: 'KERNEL_NOT_REGISTERED', name: 'WasmGradError' });
      expect((error as Error).message).toMatch(/NoSuchKernel.*@tensorflow\/tfjs-backend-wasm/);
      expect((error as Record<symbol, unknown>)[IMGCLS_ERROR_MARKER]).toBe(true);
    }
  });
});
