import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLabelsFile } from '@imgcls/models';
import { ImgclsError } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';
import { loadClassifier } from '../src/index';

const modelPath = sharedData('mobilenet-v2/mobilenet_v2_1.0_224_quant.tflite');
const labelsPath = sharedData('mobilenet-v2/imagenet_labels.txt');
const photos = sharedData('photos');

describe.skipIf(!modelPath || !labelsPath || !photos)('loadClassifier with a .tflite file', () => {
  it('imports the real MobileNetV2 and classifies the reference photos', async () => {
    const labels = parseLabelsFile(readFileSync(labelsPath as string, 'utf8'));
    expect(labels).toHaveLength(1001);
    const classifier = await loadClassifier(modelPath as string, { labels });
    expect(classifier.metadata.backgroundClass).toBe(true);
    expect(classifier.info()).toMatchObject({
      labels: 1000,
      inputSize: { height: 224, width: 224 },
      backend: 'wasm',
    });
    const [hopper] = await classifier.classify(join(photos as string, 'grace_hopper.bmp'), {
      topK: 3,
    });
    expect(hopper?.label).toBe('military uniform');
    const [cat] = await classifier.classify(join(photos as string, 'cat.bmp'), { topK: 1 });
    expect(cat?.label).toMatch(/cat/);
    const before = tf.memory().numTensors;
    await classifier.classify(join(photos as string, 'bird.bmp'));
    expect(tf.memory().numTensors).toBe(before);
    // The embedding is the pooled 1280-d feature vector that feeds the classifier convolution.
    expect(await classifier.embed(join(photos as string, 'bird.bmp'))).toHaveLength(1280);
    classifier.dispose();
  });

  it('asks for labels when none are given', async () => {
    const error = await loadClassifier(modelPath as string).catch((thrown: unknown) => thrown);
    expect(ImgclsError.isInstance(error, 'MODEL_LOAD_FAILED')).toBe(true);
    expect((error as Error).message).toContain('labels');
  });
});
