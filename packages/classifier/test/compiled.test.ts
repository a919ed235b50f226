import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importTflite, parseLabelsFile } from '@imgcls/models';
import { decodeImage, toModelInput } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';
import { loadClassifier } from '../src/index';

const modelPath = sharedData('mobilenet-v2/mobilenet_v2_1.0_224_quant.tflite');
const labelsPath = sharedData('mobilenet-v2/imagenet_labels.txt');
const photos = sharedData('photos');

describe.skipIf(!modelPath || !labelsPath || !photos)('the compiled inference path', () => {
  it('gives the plain layers model its probabilities and embedding within 1e-4', async () => {
    const labels = parseLabelsFile(readFileSync(labelsPath as string, 'utf8'));
    const classifier = await loadClassifier(modelPath as string, { labels });
    const photo = join(photos as string, 'grace_hopper.bmp');
    const [probabilities] = await classifier.probabilities([photo]);
    const embedding = await classifier.embed(photo);

    // Reference: tf.layers' own predict on the same import, without the compiled program.
    const imported = importTflite(new Uint8Array(readFileSync(modelPath as string)));
    const input = toModelInput(await decodeImage(photo), classifier.metadata.preset);
    const output = (imported.model.predict(input) as tf.Tensor).dataSync();
    const withoutBackground = Array.from(output).slice(1);
    const total = withoutBackground.reduce((sum, value) => sum + value, 0);
    const features = tfl.model({
      inputs: imported.model.inputs,
      outputs: imported.model.getLayer(imported.embeddingLayer as string)
        .output as tfl.SymbolicTensor,
    });
    const expectedEmbedding = (features.predict(input) as tf.Tensor).dataSync();

    expect(probabilities).toHaveLength(1000);
    const worst = (actual: ArrayLike<number>, expected: ArrayLike<number>) =>
      Math.max(
        ...Array.from(actual, (value, index) => Math.abs(value - (expected[index] as number))),
      );
    expect(
      worst(
        probabilities as Float32Array,
        withoutBackground.map((p) => p / total),
      ),
    ).toBeLessThan(1e-4);
    expect(worst(embedding, expectedEmbedding)).toBeLessThan(1e-4);
    tf.dispose(input);
    imported.model.dispose();
    classifier.dispose();
  });
});
