import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { registerWasmGradients, setWasmBackendWithThreads, WasmGradError } from '../src/node';
import { maxErrors, randomValues, valuesOn } from './backends';

const PACKAGE_DIRECTORY = join(dirname(fileURLToPath(import.meta.url)), '..');

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('setWasmBackendWithThreads', () => {
  it('rejects thread counts outside 1-8 before touching the backend', async () => {
    for (const threads of [0, 1.5, 9, Number.NaN]) {
      const error = await rejection(setWasmBackendWithThreads({ threads }));
      expect(error).toBeInstanceOf(WasmGradError);
      expect((error as WasmGradError).code).toBe('INVALID_ARGUMENT');
    }
    expect(tf.findBackend('wasm')).toBeNull();
  });

  it('starts a 2-thread wasm backend whose convolution gradients match the cpu backend', async () => {
    const report = await setWasmBackendWithThreads({ threads: 2 });
    expect(report.threads).toBe(2);
    expect(tf.getBackend()).toBe('wasm');
    registerWasmGradients();
    // Large enough for XNNPACK to split the work across the pool.
    const compute = () => {
      const x = tf.tensor4d(randomValues(4 * 16 * 16 * 32, 1), [4, 16, 16, 32]);
      const filter = tf.tensor4d(randomValues(3 * 3 * 32 * 48, 2), [3, 3, 32, 48]);
      const gradients = tf.grads((input: tf.Tensor, weights: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(input as tf.Tensor4D, weights as tf.Tensor4D, 1, 'same'))),
      )([x, filter]);
      return tf.concat(gradients.map((gradient) => tf.reshape(gradient, [-1])));
    };
    const actual = await valuesOn('wasm', compute);
    const expected = await valuesOn('cpu', compute);
    const errors = maxErrors(actual, expected);
    expect(errors.relative).toBeLessThan(1e-5);
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(compute).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses once the wasm backend exists, since threads are fixed at initialisation', async () => {
    const error = await rejection(setWasmBackendWithThreads({ threads: 2 }));
    expect((error as WasmGradError).code).toBe('WASM_BACKEND_ALREADY_INITIALIZED');
  });

  // A separate plain-Node process, so it runs the built package (`dist/`, made by `build`).
  it('lets a process that used the threaded backend exit on its own', () => {
    const script = [
      "import '@tensorflow/tfjs-backend-wasm';",
      "import * as tf from '@tensorflow/tfjs-core';",
      "import { setWasmBackendWithThreads } from '@imgcls/wasm-grad/node';",
      'const { threads } = await setWasmBackendWithThreads({ threads: 2 });',
      "const y = tf.conv2d(tf.ones([2, 8, 8, 4]), tf.ones([3, 3, 4, 4]), 1, 'same');",
      "console.log('threads', threads, 'sum', tf.sum(y).dataSync()[0]);",
    ].join('\n');
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: PACKAGE_DIRECTORY,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.error, 'the process did not exit within 60 s').toBeUndefined();
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    // Every output pixel sums 4 channels over its in-image 3x3 neighbourhood (fewer at the border).
    expect(run.stdout.trim()).toBe(`threads 2 sum ${2 * 4 * 4 * (6 * 6 * 9 + 4 * 6 * 6 + 4 * 4)}`);
  });

  // The threads ./node starts serve the kernels the main entry registers only if both entries are one
  // module: built separately, each had its own kernel, and registerWasmGradients() ran single-threaded.
  it('shares one module between the main and the Node entry, in ESM and in CommonJS', () => {
    const esm = [
      "import * as main from '@imgcls/wasm-grad';",
      "import * as node from '@imgcls/wasm-grad/node';",
      'console.log(main.WasmGradError === node.WasmGradError);',
    ].join('\n');
    const cjs = [
      "const main = require('@imgcls/wasm-grad');",
      "const node = require('@imgcls/wasm-grad/node');",
      'console.log(main.WasmGradError === node.WasmGradError);',
    ].join('\n');
    for (const [type, script] of [
      ['module', esm],
      ['commonjs', cjs],
    ] as const) {
      const run = spawnSync(process.execPath, [`--input-type=${type}`, '-e', script], {
        cwd: PACKAGE_DIRECTORY,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.stderr, type).toBe('');
      expect(run.stdout.trim(), type).toBe('true');
    }
  });
});
