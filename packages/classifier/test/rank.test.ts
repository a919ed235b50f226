import type { ModelMetadata } from '@imgcls/models';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadClassifier, selectBackend } from '../src/index';

// Probabilities with ties (0.2 three times, 0.1 twice) that the model outputs whatever the image.
const PROBABILITIES = [0.1, 0.2, 0.05, 0.2, 0.1, 0.2, 0.15];
const LABELS = PROBABILITIES.map((_, index) => `class ${index}`);

async function constantModel(): Promise<tf.io.IOHandler> {
  const input = tfl.input({ shape: [4, 4, 3] });
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(input) as tfl.SymbolicTensor;
  const dense = tfl.layers.dense({ units: PROBABILITIES.length, activation: 'softmax' });
  const output = dense.apply(pooled) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output });
  const weights = [
    tf.zeros([3, PROBABILITIES.length]),
    tf.tensor1d(PROBABILITIES.map((p) => Math.log(p))),
  ];
  dense.setWeights(weights);
  tf.dispose(weights);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
  return tf.io.fromMemory(artifacts as tf.io.ModelArtifacts);
}

describe('ranking', () => {
  beforeAll(() => selectBackend('wasm'));

  it('returns the topK classes a full sort gives (ties: lower index first), for every topK', async () => {
    const metadata: ModelMetadata = {
      schemaVersion: 1,
      id: 'constant',
      name: 'Constant',
      version: '1',
      format: 'layers-model',
      labels: LABELS,
      output: 'probabilities',
      preset: { height: 4, width: 4, resize: 'stretch', range: [0, 1] },
    };
    const classifier = await loadClassifier(await constantModel(), { metadata, backend: 'wasm' });
    const image = { data: new Uint8Array(4 * 4 * 3).fill(9), width: 4, height: 4 };
    const [row] = await classifier.probabilities([image]);
    const reference = Array.from(row as Float32Array, (probability, index) => ({
      probability,
      index,
    }))
      .sort((a, b) => b.probability - a.probability || a.index - b.index)
      .map(({ index }) => index);
    expect(reference).toEqual([1, 3, 5, 6, 0, 4, 2]);
    for (let topK = 1; topK <= LABELS.length + 2; topK++) {
      const ranked = await classifier.classify(image, { topK });
      expect(ranked.map((prediction) => prediction.index)).toEqual(reference.slice(0, topK));
      expect(ranked.map((prediction) => prediction.label)).toEqual(
        reference.slice(0, topK).map((index) => LABELS[index]),
      );
    }
    classifier.dispose();
  });
});
