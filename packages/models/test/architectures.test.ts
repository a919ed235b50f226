import { ImgclsError } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeDivisible, mobileNetV2, resNet9, seedCnn } from '../src/index';
import { useWasm } from './setup';

function countParams(model: tfl.LayersModel): { total: number; trainable: number } {
  const size = (weights: tfl.LayerVariable[]) =>
    weights.reduce((sum, weight) => sum + (weight.shape as number[]).reduce((a, b) => a * b, 1), 0);
  return { total: size(model.weights), trainable: size(model.trainableWeights) };
}

const conv = (kernel: number, inputs: number, filters: number, bias: boolean) =>
  kernel * kernel * inputs * filters + (bias ? filters : 0);
const dense = (inputs: number, units: number) => inputs * units + units;

describe('architectures', () => {
  beforeAll(useWasm);

  it('builds MobileNetV2 1.0/224 with the parameter counts Keras publishes', () => {
    const model = mobileNetV2();
    expect(countParams(model)).toEqual({ total: 3_538_984, trainable: 3_504_872 });
    model.dispose();
  });

  it('builds MobileNetV2 0.35 without top with the Keras no-top parameter count', () => {
    const model = mobileNetV2({ alpha: 0.35, includeTop: false });
    expect(countParams(model).total).toBe(410_208);
    model.dispose();
  });

  it('uses the Keras layer names so converted weights load by name', () => {
    const model = mobileNetV2({ alpha: 0.35, inputShape: [96, 96, 3], classes: 10 });
    const names = model.layers.map((layer) => layer.name);
    for (const name of [
      'Conv1',
      'bn_Conv1',
      'Conv1_relu',
      'expanded_conv_depthwise',
      'expanded_conv_project_BN',
      'block_1_expand',
      'block_1_pad',
      'block_1_depthwise_BN',
      'block_2_add',
      'block_16_project_BN',
      'Conv_1',
      'Conv_1_bn',
      'out_relu',
      'global_average_pooling2d',
      'predictions',
    ]) {
      expect(names).toContain(name);
    }
    // Residual adds exist exactly where input and output shapes agree (Keras: 10 of 17 blocks).
    expect(names.filter((name) => name.endsWith('_add'))).toHaveLength(10);
    expect(model.outputs[0]?.shape).toEqual([null, 10]);
    model.dispose();
  });

  it('rounds widths like Keras _make_divisible', () => {
    expect([
      makeDivisible(32 * 0.35),
      makeDivisible(16 * 0.35),
      makeDivisible(24 * 1.3),
      makeDivisible(1280 * 1.4),
    ]).toEqual([16, 8, 32, 1792]);
  });

  it('builds the seed CNN with the parameters its layers imply', () => {
    const model = seedCnn();
    const expected =
      conv(3, 3, 32, true) +
      conv(3, 32, 64, true) +
      conv(3, 64, 128, true) +
      conv(3, 128, 256, true) +
      dense(2 * 2 * 256, 64) +
      dense(64, 10);
    expect(countParams(model)).toEqual({ total: expected, trainable: expected });
    model.dispose();
  });

  it('builds ResNet-9, at full and half width, with the parameters its layers imply', () => {
    for (const [width, c] of [
      [1, 64],
      [0.5, 32],
    ] as const) {
      const model = resNet9(width === 1 ? {} : { width });
      const convs =
        conv(3, 3, c, false) +
        conv(3, c, 2 * c, false) +
        2 * conv(3, 2 * c, 2 * c, false) +
        conv(3, 2 * c, 4 * c, false) +
        conv(3, 4 * c, 8 * c, false) +
        2 * conv(3, 8 * c, 8 * c, false);
      const bnChannels = c + 2 * c + 2 * 2 * c + 4 * c + 8 * c + 2 * 8 * c;
      expect(countParams(model)).toEqual({
        total: convs + 4 * bnChannels + dense(8 * c, 10),
        trainable: convs + 2 * bnChannels + dense(8 * c, 10),
      });
      model.dispose();
    }
  });

  it('runs a forward pass on wasm giving probabilities, deterministically with a seed', () => {
    for (const build of [
      () => seedCnn({ seed: 1 }),
      () => resNet9({ seed: 1 }),
      () => mobileNetV2({ alpha: 0.35, inputShape: [96, 96, 3], classes: 10, seed: 1 }),
    ]) {
      const [first, second] = [build(), build()];
      const size = first.inputs[0]?.shape[1] as number;
      const input = tf.randomUniform([2, size, size, 3], 0, 1, 'float32', 3);
      const [a, b] = [first.predict(input) as tf.Tensor, second.predict(input) as tf.Tensor];
      expect(a.shape).toEqual([2, 10]);
      const rowSums = tf.tidy(() => tf.sum(a, 1).arraySync()) as number[];
      for (const sum of rowSums) expect(sum).toBeCloseTo(1, 5);
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).arraySync())).toBe(0);
      tf.dispose([input, a, b]);
      first.dispose();
      second.dispose();
    }
  });

  it('applies ResNet-9 logitScale before the softmax, leaking no tensors', () => {
    const logitsModel = resNet9({ seed: 2, classifierActivation: 'linear' });
    const scaledModel = resNet9({ seed: 2, logitScale: 0.125 });
    expect(scaledModel.layers.map((layer) => layer.name).slice(-3)).toEqual([
      'predictions',
      'logit_scale',
      'softmax',
    ]);
    const input = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 4);
    const gap = () =>
      tf.tidy(() => {
        const logits = logitsModel.predict(input) as tf.Tensor;
        const expected = tf.softmax(tf.mul(logits, 0.125));
        return tf.max(tf.abs(tf.sub(scaledModel.predict(input) as tf.Tensor, expected)));
      });
    const firstGap = gap();
    const tensorsBefore = tf.memory().numTensors;
    for (let repeat = 0; repeat < 3; repeat++) gap().dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(firstGap.arraySync()).toBeLessThan(1e-6);
    tf.dispose([firstGap, input]);
    logitsModel.dispose();
    scaledModel.dispose();
  });

  it('rejects bad options with typed errors naming the option', () => {
    const attempts = [
      () => mobileNetV2({ alpha: 0 }),
      () => mobileNetV2({ inputShape: [16, 16, 3] }),
      () => seedCnn({ classes: 0 }),
      () => resNet9({ inputShape: [32, 32, 1] }),
      () => resNet9({ logitScale: 0 }),
      () => resNet9({ width: 0 }),
    ];
    const messages = attempts.map((attempt) => {
      try {
        attempt();
        return 'no error';
      } catch (error) {
        expect(ImgclsError.isInstance(error, 'INVALID_ARGUMENT')).toBe(true);
        return (error as Error).message;
      }
    });
    expect(messages[0]).toMatch(/alpha/);
    expect(messages[1]).toMatch(/inputShape height/);
    expect(messages[2]).toMatch(/classes/);
    expect(messages[3]).toMatch(/channels/);
    expect(messages[4]).toMatch(/logitScale/);
  });
});
