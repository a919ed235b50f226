import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { registerWasmGradients } from '../src/index';

// Its own file, so that wasm has not started when registerWasmGradients runs (vitest's forks pool gives
// every test file a fresh process).
describe('registerWasmGradients before tf.setBackend("wasm")', () => {
  it('keeps the stock reductions it delegates to working once the backend starts', async () => {
    expect('wasm' in tf.engine().registry).toBe(false);
    const report = registerWasmGradients();
    expect(report.replaced).toEqual(expect.arrayContaining(['Sum', 'Mean', 'BatchMatMul']));
    expect(registerWasmGradients().alreadyRegistered).toHaveLength(
      report.added.length + report.replaced.length,
    );
    const values = Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i));
    const results = async (backend: string) => {
      await tf.setBackend(backend);
      const x = tf.tensor3d(values, [2, 3, 4]);
      const a = tf.tensor2d(values.slice(0, 12), [3, 4]);
      // Trailing-axis reductions and a plain product are the cases handed to wasm's own kernels.
      const outputs = [tf.mean(x, -1), tf.sum(x, 2), tf.matMul(a, tf.transpose(a)), tf.mean(x, 0)];
      const data = outputs.map((output) => Array.from(output.dataSync()));
      tf.dispose([x, a, ...outputs]);
      return data;
    };
    const onWasm = await results('wasm');
    const onCpu = await results('cpu');
    onWasm.forEach((values, index) => {
      values.forEach((value, at) => {
        expect(value).toBeCloseTo(onCpu[index]?.[at] as number, 5);
      });
    });
  });
});
