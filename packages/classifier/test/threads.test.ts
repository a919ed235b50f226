import { fileURLToPath } from 'node:url';
import type { WasmGradError } from '@imgcls/wasm-grad';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadClassifier } from '../src/index';

// Threads are fixed when wasm initialises, so this file (its own process under vitest's forks pool)
// starts wasm itself. The shipped seed CNN gives a real convolutional network to split across threads.
const seedCnn = fileURLToPath(new URL('../../../models/cifar10-seedcnn', import.meta.url));
const image = {
  data: Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 37) % 256),
  width: 32,
  height: 32,
};

describe('loadClassifier({ threads })', () => {
  it('rejects a bad thread count without starting wasm, then runs on the threads asked for, matching cpu', async () => {
    const bad = await loadClassifier(seedCnn, { threads: 9 }).catch((error: unknown) => error);
    expect((bad as WasmGradError).code).toBe('INVALID_ARGUMENT');
    expect('wasm' in tf.engine().registry).toBe(false);

    const threaded = await loadClassifier(seedCnn, { threads: 2 });
    expect(threaded.info()).toMatchObject({ backend: 'wasm', threads: 2 });
    const [onWasm] = await threaded.probabilities([image]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) await threaded.classify(image);
    expect(tf.memory().numTensors).toBe(before);
    threaded.dispose();

    const reference = await loadClassifier(seedCnn, { backend: 'cpu' });
    expect(reference.info().threads).toBeUndefined();
    const [onCpu] = await reference.probabilities([image]);
    reference.dispose();
    expect(onWasm).toHaveLength(10);
    for (let k = 0; k < 10; k++) expect(onWasm?.[k]).toBeCloseTo(onCpu?.[k] as number, 4);
  });
});
