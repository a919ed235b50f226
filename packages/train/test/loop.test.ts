import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImgclsError } from '@imgcls/preprocess';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, constant, cosine, Sgd, type TrainingData, train } from '../src/index';

/** Two Gaussian-ish blobs per class in 2-D, as 1x1x2 "images", deterministic. */
function blobs(
  size: number,
  poisonFromCall = Number.POSITIVE_INFINITY,
): TrainingData & { calls: number } {
  const points = Array.from({ length: size }, (_, i) => {
    const label = i % 3;
    const angle = (i * 2.399) % (2 * Math.PI);
    const radius = 0.3 * ((i * 0.618) % 1);
    return {
      x: [
        Math.cos((label * 2 * Math.PI) / 3) * 2 + radius * Math.cos(angle),
        Math.sin((label * 2 * Math.PI) / 3) * 2 + radius * Math.sin(angle),
      ],
      label,
    };
  });
  const data = {
    size,
    calls: 0,
    batch(indices: readonly number[]) {
      data.calls++;
      const poisoned = data.calls >= poisonFromCall;
      return {
        images: tf.tensor4d(
          indices.flatMap((index) =>
            poisoned ? [Number.NaN, Number.NaN] : (points[index]?.x as number[]),
          ),
          [indices.length, 1, 1, 2],
        ),
        labels: tf.tensor1d(
          indices.map((index) => points[index]?.label as number),
          'int32',
        ),
      };
    },
  };
  return data;
}

function tinyModel(seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [1, 1, 2] });
  let x = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
  x = tfl.layers
    .dense({
      units: 16,
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
    })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization().apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers
    .dense({
      units: 3,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
    })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

const weightsOf = (model: tfl.LayersModel) =>
  model.weights.map((weight) => Array.from(weight.read().dataSync()));

describe('optimizers (hand-computed updates)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('SGD with Nesterov momentum and decoupled weight decay', () => {
    const w = tf.variable(tf.scalar(1), true, 'w-sgd');
    const sgd = new Sgd({ momentum: 0.9, nesterov: true });
    sgd.apply([w], [tf.scalar(0.5)], 0.1);
    expect(w.dataSync()[0]).toBeCloseTo(0.905, 6); // v = 0.5; step = 0.5 + 0.9·0.5
    sgd.apply([w], [tf.scalar(0.5)], 0.1);
    expect(w.dataSync()[0]).toBeCloseTo(0.7695, 6); // v = 0.95; step = 0.5 + 0.855
    const decayed = tf.variable(tf.scalar(1), true, 'w-sgd-wd');
    new Sgd({ momentum: 0, nesterov: false, weightDecay: 0.1 }).apply(
      [decayed],
      [tf.scalar(0)],
      0.1,
    );
    expect(decayed.dataSync()[0]).toBeCloseTo(0.99, 6);
  });

  it('AdamW with bias correction and decoupled weight decay', () => {
    const w = tf.variable(tf.scalar(1), true, 'w-adamw');
    new AdamW({ weightDecay: 0.01 }).apply([w], [tf.scalar(0.5)], 0.1);
    // m̂ = 0.5, v̂ = 0.25: step ≈ 1; w = 1·(1 − 0.1·0.01) − 0.1.
    expect(w.dataSync()[0]).toBeCloseTo(0.899, 6);
  });
});

describe('train', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('learns a small problem, reports progress, and keeps memory flat across epochs', async () => {
    const model = tinyModel(3);
    const countsAtEpochEnd: number[] = [];
    const steps: number[] = [];
    const result = await train(
      {
        model,
        data: blobs(96),
        validation: blobs(30),
        numClasses: 3,
        epochs: 6,
        batchSize: 16,
        optimizer: new AdamW({ weightDecay: 0 }),
        schedule: cosine(0.05, 36),
        labelSmoothing: 0.05,
        clipNorm: 5,
      },
      {
        onEvent: (event) => {
          if (event.type === 'epoch') countsAtEpochEnd.push(tf.memory().numTensors);
          if (event.type === 'step') steps.push(event.step);
        },
      },
    );
    expect(result.status).toBe('completed');
    expect(steps).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
    expect(result.epochs.at(-1)?.loss as number).toBeLessThan(
      (result.epochs[0]?.loss as number) * 0.7,
    );
    expect(result.epochs.at(-1)?.validation?.accuracy).toBeGreaterThan(0.9);
    expect(new Set(countsAtEpochEnd.slice(1)).size).toBe(1);
  });

  it('resumes after an interruption to bit-identical weights', async () => {
    const config = (directory: string) => ({
      data: blobs(40),
      numClasses: 3,
      epochs: 3,
      batchSize: 8,
      schedule: constant(0.1),
      seed: 11,
      checkpointDir: directory,
      checkpointEvery: 2,
    });
    const straight = tinyModel(5);
    await train({
      ...config(mkdtempSync(join(tmpdir(), 'imgcls-ckpt-a-'))),
      model: straight,
      optimizer: new Sgd({ weightDecay: 1e-3 }),
    });

    const directory = mkdtempSync(join(tmpdir(), 'imgcls-ckpt-b-'));
    const controller = new AbortController();
    const first = await train(
      { ...config(directory), model: tinyModel(5), optimizer: new Sgd({ weightDecay: 1e-3 }) },
      {
        signal: controller.signal,
        onEvent: (event) => event.type === 'step' && event.step === 7 && controller.abort(),
      },
    );
    expect([first.status, first.step]).toEqual(['aborted', 7]);
    // A fresh process: different initial weights, new optimizer; everything comes from the checkpoint.
    const resumed = tinyModel(99);
    const events: string[] = [];
    const second = await train(
      { ...config(directory), model: resumed, optimizer: new Sgd({ weightDecay: 1e-3 }) },
      { onEvent: (event) => events.push(event.type) },
    );
    expect(events[0]).toBe('resumed');
    expect(second.step).toBe(15);
    expect(weightsOf(resumed)).toEqual(weightsOf(straight));
    expect(readdirSync(directory).sort()).toEqual(['checkpoint.json', 'weights-15.bin']);
  });

  it('stops on a NaN loss with a typed error and keeps the last good checkpoint', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'imgcls-ckpt-nan-'));
    const error = await train({
      model: tinyModel(1),
      data: blobs(32, 6),
      numClasses: 3,
      epochs: 2,
      batchSize: 8,
      optimizer: new Sgd(),
      schedule: constant(0.05),
      checkpointDir: directory,
      checkpointEvery: 1,
    }).catch((thrown: unknown) => thrown);
    expect(ImgclsError.isInstance(error, 'NON_FINITE_LOSS'), JSON.stringify(error)).toBe(true);
    expect((error as { step: number }).step).toBe(5);
    expect(readdirSync(directory)).toContain('weights-5.bin');
  });

  it('refuses to resume a checkpoint written by another configuration', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'imgcls-ckpt-other-'));
    const base = {
      data: blobs(16),
      numClasses: 3,
      batchSize: 8,
      optimizer: new Sgd(),
      schedule: constant(0.01),
      checkpointDir: directory,
    };
    await train({ ...base, model: tinyModel(1), epochs: 1 });
    const error = await train({ ...base, model: tinyModel(1), epochs: 2 }).catch(
      (thrown: unknown) => thrown,
    );
    expect(ImgclsError.isInstance(error, 'CHECKPOINT_INVALID')).toBe(true);
  });
});
