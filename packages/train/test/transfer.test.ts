import { InvalidArgumentError } from '@imgcls/preprocess';
import { registerWasmGradients } from '@imgcls/wasm-grad';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AdamW,
  constant,
  evaluateData,
  featureData,
  frozenFeatureData,
  splitAtLayer,
  type TrainingData,
  train,
  transferModel,
  unfreezeFrom,
} from '../src/index';

/**
 * 16x16 images: a 6x6 square of one of four colours, anywhere on a noisy grey background; the class is
 * the colour (what a pooled feature vector keeps, unlike position). Deterministic.
 */
const COLOURS = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
  [1, 1, 0],
] as const;

function squares(size: number, offset = 0): TrainingData {
  const side = 16;
  const images = new Float32Array(size * side * side * 3);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const label = (i + offset) % 4;
    labels[i] = label;
    const top = (i * 7 + offset) % 10;
    const left = (i * 3 + offset * 5) % 10;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const inside = y >= top && y < top + 6 && x >= left && x < left + 6;
        for (let c = 0; c < 3; c++) {
          const noise = Math.sin((i + 1) * 12.9898 + y * 78.233 + x * 37.719 + c) * 0.15;
          images[((i * side + y) * side + x) * 3 + c] =
            (inside ? (COLOURS[label]?.[c] as number) : 0.5) + noise;
        }
      }
    }
  }
  return {
    size,
    batch(indices) {
      const rows = new Float32Array(indices.length * side * side * 3);
      const stride = side * side * 3;
      indices.forEach((index, row) => {
        rows.set(images.subarray(index * stride, (index + 1) * stride), row * stride);
      });
      return {
        images: tf.tensor4d(rows, [indices.length, side, side, 3]),
        labels: tf.tensor1d(
          Array.from(indices, (index) => labels[index] as number),
          'int32',
        ),
      };
    },
  };
}

/** A stand-in for a pretrained backbone: two seeded conv blocks and its own 10-class classifier. */
function backbone(): tfl.LayersModel {
  const input = tfl.input({ shape: [16, 16, 3] });
  let x = input;
  for (const [index, filters] of [16, 32].entries()) {
    x = tfl.layers
      .conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: `block${index + 1}_conv`,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 10 + index }),
      })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
  }
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers
    .dense({ units: 10, activation: 'softmax', name: 'old_predictions' })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

const snapshot = (weights: readonly tfl.LayerVariable[]) =>
  weights.map((weight) => Float32Array.from(weight.read().dataSync()));

describe('transfer learning', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerWasmGradients();
  });

  it('replaces the classifier, freezes the backbone and takes the features its classifier saw', () => {
    const transfer = transferModel(backbone(), { classes: 4, seed: 1 });
    expect(transfer.model.outputs[0]?.shape).toEqual([null, 4]);
    expect(transfer.featureSize).toBe(32);
    expect(transfer.model.layers.map((layer) => layer.name)).not.toContain('old_predictions');
    // Only the new dense layer's kernel and bias train.
    expect(transfer.model.trainableWeights.map((weight) => weight.name)).toEqual([
      'transfer_predictions/kernel',
      'transfer_predictions/bias',
    ]);
    transfer.model.dispose();
  });

  it('fits the head on cached features; the full model then predicts what the head predicts', async () => {
    // No dropout: its masks are unseeded, and this test must give the same losses on every run.
    const transfer = transferModel(backbone(), { classes: 4, seed: 2, dropout: 0 });
    const frozen = transfer.model.weights.filter((weight) => !weight.trainable);
    const before = snapshot(frozen);
    const trainImages = squares(64);
    const features = await featureData(transfer.features, trainImages, { batchSize: 16 });
    const tensorsBefore = tf.memory().numTensors;
    const result = await train({
      model: transfer.head,
      data: features,
      numClasses: 4,
      epochs: 30,
      batchSize: 16,
      optimizer: new AdamW({ weightDecay: 0 }),
      schedule: constant(0.05),
    });
    expect(tf.memory().numTensors).toBe(tensorsBefore + 2 * 2); // AdamW's m and v per trained weight
    const losses = result.epochs.map((epoch) => epoch.loss);
    console.log(`head losses: ${losses[0]?.toFixed(3)} → ${losses.at(-1)?.toFixed(3)}`);
    expect(losses.at(-1) as number).toBeLessThan((losses[0] as number) * 0.5);
    // The backbone did not move, and head and full model agree on unseen images.
    snapshot(frozen).forEach((values, index) => {
      expect(values).toEqual(before[index]);
    });
    const test = squares(32, 1);
    const { images } = test.batch(Array.from({ length: 32 }, (_, i) => i));
    const viaModel = transfer.model.predict(images) as tf.Tensor;
    const viaHead = transfer.head.predict(
      (await featureData(transfer.features, test)).batch(Array.from({ length: 32 }, (_, i) => i))
        .images,
    ) as tf.Tensor;
    const difference = tf.max(tf.abs(tf.sub(viaModel, viaHead))).dataSync()[0] as number;
    expect(difference).toBeLessThan(1e-5);
    const accuracy = evaluateData(transfer.model, test, { numClasses: 4, batchSize: 16 }).accuracy;
    expect(accuracy).toBeGreaterThan(0.8);
    tf.dispose([images, viaModel, viaHead]);
    transfer.model.dispose();
    transfer.head.dispose();
  });

  it('fine-tunes only the layers from the named one on, through the wasm convolution gradients', async () => {
    const transfer = transferModel(backbone(), { classes: 4, seed: 3 });
    expect(unfreezeFrom(transfer.model, 'block2_conv')).toBe(4); // block2 kernel+bias, head kernel+bias
    const layer1 = transfer.model.getLayer('block1_conv').weights;
    const layer2 = transfer.model.getLayer('block2_conv').weights;
    const [before1, before2] = [snapshot(layer1), snapshot(layer2)];
    await train({
      model: transfer.model,
      data: squares(32),
      numClasses: 4,
      epochs: 1,
      batchSize: 16,
      optimizer: new AdamW({ weightDecay: 0 }),
      schedule: constant(0.001),
    });
    snapshot(layer1).forEach((values, index) => {
      expect(values).toEqual(before1[index]);
    });
    expect(snapshot(layer2)[0]).not.toEqual(before2[0]);
    transfer.model.dispose();
  });

  it('fine-tunes through a split model exactly as through the whole one, with the frozen part off the tape', async () => {
    const initial = backbone();
    const initialBlock2 = snapshot(initial.getLayer('block2_conv').weights);
    initial.dispose();
    const leaks: number[] = [];
    const fineTune = async (split: boolean) => {
      const transfer = transferModel(backbone(), { classes: 4, seed: 5, dropout: 0 });
      const before = tf.memory().numTensors;
      unfreezeFrom(transfer.model, 'block2_conv');
      const data = squares(32);
      const parts = split ? splitAtLayer(transfer.model, 'block2_conv') : undefined;
      const features = parts ? frozenFeatureData(parts.frozen, data) : undefined;
      await train({
        model: parts?.trainable ?? transfer.model,
        data: features ?? data,
        numClasses: 4,
        epochs: 2,
        batchSize: 16,
        optimizer: new AdamW({ weightDecay: 0 }),
        schedule: constant(0.01),
        seed: 1,
      });
      features?.dispose();
      leaks.push(tf.memory().numTensors - before);
      return transfer.model;
    };
    const whole = await fineTune(false);
    const split = await fineTune(true);
    // Whatever the loop keeps (optimizer state), splitting adds nothing to it.
    expect(leaks[1]).toBe(leaks[0]);
    const wholeWeights = snapshot(whole.trainableWeights);
    const splitWeights = snapshot(split.trainableWeights);
    expect(splitWeights).toHaveLength(4);
    splitWeights.forEach((values, index) => {
      const reference = wholeWeights[index] as Float32Array;
      if (index < 2) expect(values).not.toEqual(initialBlock2[index]);
      values.forEach((value, at) => {
        expect(value).toBeCloseTo(reference[at] as number, 4);
      });
    });
    // The split trained the original model's layers: its own predictions changed with them.
    const { images } = squares(4).batch([0, 1, 2, 3]);
    const a = whole.predict(images) as tf.Tensor;
    const b = split.predict(images) as tf.Tensor;
    const [aValues, bValues] = [Array.from(a.dataSync()), Array.from(b.dataSync())];
    bValues.forEach((value, at) => {
      expect(value).toBeCloseTo(aValues[at] as number, 4);
    });
    tf.dispose([images, a, b]);
    split.dispose();
    whole.dispose();
  });

  it('refuses to cut where a connection skips over the cut', () => {
    const input = tfl.input({ shape: [8, 8, 4] });
    const a = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'res_a' })
      .apply(input) as tfl.SymbolicTensor;
    const b = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'res_b' })
      .apply(a) as tfl.SymbolicTensor;
    const c = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'res_c' })
      .apply(b) as tfl.SymbolicTensor;
    const sum = tfl.layers.add({ name: 'res_add' }).apply([a, c]) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: sum });
    expect(() => splitAtLayer(model, 'res_c')).toThrow(
      /"res_a" from before it feeds a later layer/,
    );
    expect(() => splitAtLayer(model, 'res_add')).toThrow(/does not take exactly one input/);
    expect(() => splitAtLayer(model, 'nope')).toThrow(InvalidArgumentError);
    // At the start of the block the shortcut is the cut tensor itself: a valid cut.
    const x = tf.randomUniform([2, 8, 8, 4], -1, 1, 'float32', 7);
    const parts = splitAtLayer(model, 'res_b');
    const direct = model.predict(x) as tf.Tensor;
    const viaParts = tf.tidy(
      () => parts.trainable.predict(parts.frozen.predict(x) as tf.Tensor) as tf.Tensor,
    );
    expect(Array.from(viaParts.dataSync())).toEqual(Array.from(direct.dataSync()));
    tf.dispose([x, direct, viaParts]);
    model.dispose();
  });

  it('saves and reloads as an ordinary layers model with the same predictions', async () => {
    const transfer = transferModel(backbone(), { classes: 4, seed: 4 });
    let saved: tf.io.ModelArtifacts | undefined;
    await transfer.model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
    const { images } = squares(8).batch([0, 1, 2, 3, 4, 5, 6, 7]);
    const [original, copy] = [transfer.model, reloaded].map(
      (model) => model.predict(images) as tf.Tensor,
    );
    expect(Array.from((copy as tf.Tensor).dataSync())).toEqual(
      Array.from((original as tf.Tensor).dataSync()),
    );
    expect(reloaded.layers.map((layer) => layer.name)).toContain(transfer.embeddingLayer);
    tf.dispose([images, original as tf.Tensor, copy as tf.Tensor]);
    transfer.model.dispose();
    reloaded.dispose();
  });

  it('rejects an unknown layer, a bad class count and a bad dropout with typed errors', () => {
    const model = backbone();
    expect(() => transferModel(model, { classes: 4, featureLayer: 'nope' })).toThrow(
      InvalidArgumentError,
    );
    expect(() => transferModel(model, { classes: 4, featureLayer: 'nope' })).toThrow(/block2_conv/);
    expect(() => transferModel(model, { classes: 1 })).toThrow(InvalidArgumentError);
    expect(() => transferModel(model, { classes: 4, dropout: 1 })).toThrow(InvalidArgumentError);
    expect(() => unfreezeFrom(model, 'nope')).toThrow(InvalidArgumentError);
    model.dispose();
  });
});
