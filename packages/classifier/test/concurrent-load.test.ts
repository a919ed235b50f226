import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadClassifier } from '../src/index';

const MODELS = join(import.meta.dirname, '../../../models');

// Its own file, so that no earlier test has started a backend: the race is in the first start.
describe('concurrent loads', () => {
  it('share one backend start: two classifiers loaded at once both come up on wasm', async () => {
    expect(tf.engine().backendName).toBeUndefined();
    const loads = await Promise.allSettled([
      loadClassifier(join(MODELS, 'cifar10-seedcnn'), { backend: 'wasm' }),
      loadClassifier(join(MODELS, 'cifar10-seedcnn-uint8'), { backend: 'wasm' }),
      loadClassifier(join(MODELS, 'cifar10-seedcnn')),
    ]);
    for (const load of loads)
      expect(load.status, String((load as PromiseRejectedResult).reason)).toBe('fulfilled');
    for (const load of loads) {
      const classifier = (
        load as PromiseFulfilledResult<Awaited<ReturnType<typeof loadClassifier>>>
      ).value;
      expect(classifier.info().backend).toBe('wasm');
      classifier.dispose();
    }
  });
});
