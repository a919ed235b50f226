import { readFileSync } from 'node:fs';
import { ImgclsError } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';
import { compileLayersModel, importTflite, mobileNetV2, resNet9, seedCnn } from '../src/index';
import { useWasm } from './setup';

/** Gives every batch-norm non-trivial statistics, so folding them is really exercised. */
function randomiseBatchNorms(model: tfl.LayersModel): void {
  let seed = 10;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const weights = layer.getWeights().map((weight, index) =>
      // gamma, beta, moving mean: any sign; moving variance (index 3): positive.
      index === 3
        ? tf.randomUniform(weight.shape, 0.3, 2, 'float32', seed++)
        : tf.randomUniform(weight.shape, -1, 1, 'float32', seed++),
    );
    layer.setWeights(weights);
    tf.dispose(weights);
  }
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}

/** Names of the kernels one run executes (tf.profile), to see what the program really does. */
async function kernelsOf(run: () => tf.Tensor): Promise<Set<string>> {
  const profile = await tf.profile(run);
  return new Set(profile.kernels.map((kernel) => kernel.name));
}

describe('compileLayersModel', () => {
  beforeAll(useWasm);

  it('matches model.predict on MobileNetV2 with batch-norms folded and ReLU6 fused', async () => {
    const model = mobileNetV2({ alpha: 0.35, inputShape: [64, 64, 3], classes: 7, seed: 3 });
    randomiseBatchNorms(model);
    const compiled = compileLayersModel(model);
    expect(compiled).toBeDefined();
    const x = tf.randomUniform([2, 64, 64, 3], -1, 1, 'float32', 1);
    const expected = model.predict(x) as tf.Tensor;
    const actual = compiled?.execute(x) as tf.Tensor;
    expect(actual.shape).toEqual([2, 7]);
    expect(maxDifference(actual, expected)).toBeLessThan(1e-4);
    const kernels = await kernelsOf(() => compiled?.execute(x) as tf.Tensor);
    // Folding and fusing leave no batch-norm, Relu6/Minimum or Pad passes.
    for (const absent of ['FusedBatchNorm', 'Minimum', 'Relu6', 'ClipByValue', 'PadV2'])
      expect(kernels.has(absent), absent).toBe(false);
    expect(kernels.has('FusedConv2D') && kernels.has('FusedDepthwiseConv2D')).toBe(true);
    tf.dispose([x, expected, actual]);
    compiled?.dispose();
    model.dispose();
  });

  it('matches model.predict on ResNet-9 and the seed CNN (pools, dense, dropout, softmax)', () => {
    for (const model of [
      resNet9({ classes: 10, seed: 1, logitScale: 0.125 }),
      seedCnn({ seed: 2 }),
    ]) {
      randomiseBatchNorms(model);
      const compiled = compileLayersModel(model);
      const x = tf.randomUniform([3, 32, 32, 3], 0, 1, 'float32', 4);
      const expected = model.predict(x) as tf.Tensor;
      const actual = compiled?.execute(x) as tf.Tensor;
      expect(maxDifference(actual, expected)).toBeLessThan(1e-4);
      tf.dispose([x, expected, actual]);
      compiled?.dispose();
      model.dispose();
    }
  });

  it('folds a zero-padding into the following convolutions, symmetric or not', () => {
    const input = tfl.input({ shape: [9, 10, 4] });
    let x = tfl.layers
      .zeroPadding2d({
        padding: [
          [1, 2],
          [0, 1],
        ],
      })
      .apply(input) as tfl.SymbolicTensor;
    x = tfl.layers
      .conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu6' })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.zeroPadding2d({ padding: 1 }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers
      .depthwiseConv2d({ kernelSize: 3, padding: 'valid', depthMultiplier: 2 })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers
      .zeroPadding2d({
        padding: [
          [0, 2],
          [1, 0],
        ],
      })
      .apply(x) as tfl.SymbolicTensor;
    const output = tfl.layers
      .depthwiseConv2d({ kernelSize: 2, padding: 'valid', activation: 'relu' })
      .apply(x) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    const compiled = compileLayersModel(model);
    const images = tf.randomUniform([2, 9, 10, 4], -1, 1, 'float32', 5);
    const expected = model.predict(images) as tf.Tensor;
    const actual = compiled?.execute(images) as tf.Tensor;
    expect(actual.shape).toEqual(expected.shape);
    expect(maxDifference(actual, expected)).toBeLessThan(1e-5);
    tf.dispose([images, expected, actual]);
    compiled?.dispose();
    model.dispose();
  });

  it('keeps a zero-padding as its own op before a convolution it cannot fuse (tanh)', () => {
    const input = tfl.input({ shape: [6, 6, 2] });
    const padded = tfl.layers.zeroPadding2d({ padding: 1 }).apply(input) as tfl.SymbolicTensor;
    const output = tfl.layers
      .conv2d({ filters: 3, kernelSize: 3, padding: 'valid', activation: 'tanh' })
      .apply(padded) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    const compiled = compileLayersModel(model);
    const images = tf.randomUniform([1, 6, 6, 2], -1, 1, 'float32', 9);
    const expected = model.predict(images) as tf.Tensor;
    const actual = compiled?.execute(images) as tf.Tensor;
    expect(maxDifference(actual, expected)).toBeLessThan(1e-6);
    tf.dispose([images, expected, actual]);
    compiled?.dispose();
    model.dispose();
  });

  it('returns an observed inner layer, e.g. the embedding before the classifier', () => {
    const model = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], classes: 4, seed: 5 });
    randomiseBatchNorms(model);
    const compiled = compileLayersModel(model, { outputs: ['out_relu', 'block_3_depthwise_BN'] });
    expect(compiled?.outputs).toEqual(['predictions', 'out_relu', 'block_3_depthwise_BN']);
    const x = tf.randomUniform([1, 32, 32, 3], -1, 1, 'float32', 6);
    for (const name of ['out_relu', 'block_3_depthwise_BN']) {
      const inner = tfl.model({
        inputs: model.inputs,
        outputs: model.getLayer(name).output as tfl.SymbolicTensor,
      });
      const expected = inner.predict(x) as tf.Tensor;
      const actual = compiled?.execute(x, name) as tf.Tensor;
      expect(maxDifference(actual, expected)).toBeLessThan(1e-4);
      tf.dispose([expected, actual]);
    }
    x.dispose();
    compiled?.dispose();
    model.dispose();
  });

  it('leaks no tensors over repeated runs and frees its folded weights on dispose', () => {
    const model = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], classes: 3, seed: 7 });
    const before = tf.memory().numTensors;
    const compiled = compileLayersModel(model, { outputs: ['out_relu'] });
    const x = tf.zeros([1, 32, 32, 3]);
    compiled?.execute(x).dispose();
    const afterFirst = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      compiled?.execute(x).dispose();
      compiled?.execute(x, 'out_relu').dispose();
    }
    expect(tf.memory().numTensors).toBe(afterFirst);
    x.dispose();
    compiled?.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('rejects unknown output layers and inputs of the wrong shape with typed errors', () => {
    const model = seedCnn({ seed: 1 });
    expect(() => compileLayersModel(model, { outputs: ['nope'] })).toThrow(/no layer "nope"/);
    const compiled = compileLayersModel(model);
    const wrong = tf.zeros([1, 16, 16, 3]);
    try {
      compiled?.execute(wrong);
      expect.unreachable();
    } catch (error) {
      expect(ImgclsError.isInstance(error, 'INVALID_ARGUMENT')).toBe(true);
    }
    wrong.dispose();
    compiled?.dispose();
    model.dispose();
  });

  it('declines models that reuse a layer, so callers fall back to predict', () => {
    const input = tfl.input({ shape: [4] });
    const shared = tfl.layers.dense({ units: 4 });
    const output = shared.apply(shared.apply(input)) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    expect(compileLayersModel(model)).toBeUndefined();
    model.dispose();
  });
});

const quantModel = sharedData('mobilenet-v2/mobilenet_v2_1.0_224_quant.tflite');

describe.skipIf(!quantModel)('compileLayersModel on the real imported MobileNetV2', () => {
  beforeAll(useWasm);

  it('gives the layers model its probabilities and embedding within 1e-4', () => {
    const imported = importTflite(new Uint8Array(readFileSync(quantModel as string)));
    const embedding = imported.embeddingLayer as string;
    const compiled = compileLayersModel(imported.model, { outputs: [embedding] });
    const x = tf.randomUniform([2, 224, 224, 3], 0, 255, 'float32', 8);
    const expected = imported.model.predict(x) as tf.Tensor;
    const actual = compiled?.execute(x) as tf.Tensor;
    expect(maxDifference(actual, expected)).toBeLessThan(1e-4);
    const inner = tfl.model({
      inputs: imported.model.inputs,
      outputs: imported.model.getLayer(embedding).output as tfl.SymbolicTensor,
    });
    const expectedEmbedding = inner.predict(x) as tf.Tensor;
    const actualEmbedding = compiled?.execute(x, embedding) as tf.Tensor;
    expect(maxDifference(actualEmbedding, expectedEmbedding)).toBeLessThan(1e-4);
    tf.dispose([x, expected, actual, expectedEmbedding, actualEmbedding]);
    compiled?.dispose();
    imported.model.dispose();
  });
});
