import { join } from 'node:path';
import { ImgclsError } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendChangedError, loadClassifier } from '../src/index';

const SEED_CNN = join(import.meta.dirname, '../../../models/cifar10-seedcnn');
const IMAGE = { data: new Uint8Array(32 * 32 * 3).fill(128), width: 32, height: 32 };

describe('a classifier whose backend is no longer active', () => {
  it('throws BackendChangedError after another classifier loads on another backend, and works once its backend is back', async () => {
    const onWasm = await loadClassifier(SEED_CNN, { backend: 'wasm' });
    const reference = await onWasm.probabilities([IMAGE]);
    const onCpu = await loadClassifier(SEED_CNN, { backend: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    for (const call of [
      () => onWasm.classify(IMAGE),
      () => onWasm.probabilities([IMAGE]),
      () => onWasm.embed(IMAGE),
      () => onWasm.explain(IMAGE),
    ]) {
      const error = await call().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BackendChangedError);
      expect(ImgclsError.isInstance(error, 'BACKEND_CHANGED')).toBe(true);
      expect(error).toMatchObject({ loadedOn: 'wasm', active: 'cpu' });
      expect((error as Error).message).toMatch(
        /loaded on the wasm backend.*now cpu.*tf\.setBackend\('wasm'\)/,
      );
    }
    expect(onWasm.info().backend).toBe('wasm');
    expect((await onCpu.classify(IMAGE)).length).toBe(5);

    await tf.setBackend('wasm');
    const [again] = await onWasm.probabilities([IMAGE]);
    Array.from(again as Float32Array).forEach((value, index) => {
      expect(value).toBeCloseTo((reference[0] as Float32Array)[index] as number, 6);
    });
    await expect(onCpu.classify(IMAGE)).rejects.toMatchObject({
      code: 'BACKEND_CHANGED',
      loadedOn: 'cpu',
      active: 'wasm',
    });
    onWasm.dispose();
    onCpu.dispose();
  });

  it('throws BackendChangedError after tf.setBackend elsewhere', async () => {
    const classifier = await loadClassifier(SEED_CNN, { backend: 'wasm' });
    await tf.setBackend('cpu');
    await expect(classifier.classify(IMAGE)).rejects.toBeInstanceOf(BackendChangedError);
    await tf.setBackend('wasm');
    expect((await classifier.classify(IMAGE)).length).toBe(5);
    classifier.dispose();
  });
});
