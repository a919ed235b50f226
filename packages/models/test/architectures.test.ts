import { ImgclsError } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { airbench, makeDivisible, mobileNetV2, resNet9, seedCnn } from '../src/index';
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

  it('builds airbench with the parameters its layers imply, its whitening kernel and BN scales frozen', () => {
    const model = airbench();
    const convs =
      conv(3, 24, 64, false) +
      conv(3, 64, 64, false) +
      conv(3, 64, 256, false) +
      3 * conv(3, 256, 256, false);
    const bnChannels = 2 * (64 + 256 + 256);
    const whitening = conv(2, 3, 24, true);
    expect(countParams(model)).toEqual({
      total: whitening + convs + 4 * bnChannels + 256 * 10,
      // The whitening bias and the batch-norm biases (betas) train; kernel and scales (gammas) do not.
      trainable: 24 + convs + bnChannels + 256 * 10,
    });
    expect(model.layers.map((layer) => layer.name).slice(-3)).toEqual([
      'predictions',
      'logit_scale',
      'softmax',
    ]);
    model.dispose();
  });

  it('starts airbench convolutions as identities on the channels they share with their input', () => {
    const model = airbench({ seed: 3, widths: [8, 16, 16] });
    const kernelOf = (name: string) =>
      model.getLayer(name).getWeights()[0]?.arraySync() as number[][][][];
    // conv2 of a group maps 8 → 8 (or 16 → 16): entirely the identity at the centre tap, zero elsewhere.
    const square = kernelOf('group1_conv2');
    for (let row = 0; row < 3; row++)
      for (let column = 0; column < 3; column++)
        for (let input = 0; input < 8; input++)
          for (let output = 0; output < 8; output++)
            expect(square[row]?.[column]?.[input]?.[output]).toBe(
              row === 1 && column === 1 && input === output ? 1 : 0,
            );
    // conv1 of group 2 maps 8 → 16: the first 8 outputs are the identity, the other 8 random.
    const widening = kernelOf('group2_conv1');
    const centre = widening[1]?.[1] as number[][];
    for (let input = 0; input < 8; input++)
      for (let output = 0; output < 8; output++)
        expect(centre[input]?.[output]).toBe(input === output ? 1 : 0);
    const random = centre.flatMap((row) => row.slice(8));
    expect(new Set(random).size).toBe(random.length);
    const bound = 1 / Math.sqrt(9 * 8);
    for (const value of random) expect(Math.abs(value)).toBeLessThanOrEqual(bound);
    model.dispose();
  });

  it('runs a forward pass on wasm giving probabilities, deterministically with a seed', () => {
    for (const build of [
      () => airbench({ seed: 1, widths: [16, 32, 32] }),
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
      () => airbench({ widths: [64, 0, 64] }),
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
    expect(messages[6]).toMatch(/widths/);
  });
});
