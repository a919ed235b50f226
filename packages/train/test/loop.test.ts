import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImgclsError } from '@imgcls/preprocess';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AdamW,
  clipByGlobalNorm,
  constant,
  cosine,
  globalNorm,
  Lookahead,
  Sgd,
  type TrainingData,
  train,
} from '../src/index';

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

  it('scales the gradient step of each variable by its rate scale, never its weight decay', () => {
    const [a, b] = [tf.variable(tf.scalar(1)), tf.variable(tf.scalar(1))];
    new Sgd({ momentum: 0, nesterov: false, weightDecay: 0.1 }).apply(
      [a, b],
      [tf.scalar(0.5), tf.scalar(0.5)],
      0.1,
      [64, 1],
    );
    expect(a.dataSync()[0]).toBeCloseTo(1 - 0.1 * 64 * 0.5 - 0.1 * 0.1, 6);
    expect(b.dataSync()[0]).toBeCloseTo(1 - 0.1 * 0.5 - 0.1 * 0.1, 6);
    const adam = tf.variable(tf.scalar(1));
    new AdamW({ weightDecay: 0.01 }).apply([adam], [tf.scalar(0.5)], 0.1, [2]);
    expect(adam.dataSync()[0]).toBeCloseTo(1 - 0.1 * 0.01 - 0.2, 6);
    tf.dispose([a, b, adam]);
  });

  it('AdamW with bias correction and decoupled weight decay', () => {
    const w = tf.variable(tf.scalar(1), true, 'w-adamw');
    new AdamW({ weightDecay: 0.01 }).apply([w], [tf.scalar(0.5)], 0.1);
    // m̂ = 0.5, v̂ = 0.25: step ≈ 1; w = 1·(1 − 0.1·0.01) − 0.1.
    expect(w.dataSync()[0]).toBeCloseTo(0.899, 6);
  });
});

describe('gradient clipping by global norm', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('scales all gradients by clipNorm / global norm, and leaves small ones alone', () => {
    // Global norm of (3, 4) and (12) is 13.
    const gradients = [tf.tensor1d([3, 4]), tf.tensor1d([12])];
    const before = tf.memory().numTensors;
    const clipped = clipByGlobalNorm(gradients, 6.5);
    expect(tf.memory().numTensors - before).toBe(2);
    expect(Array.from(clipped[0]?.dataSync() ?? [])).toEqual([1.5, 2]);
    expect(clipped[1]?.dataSync()[0]).toBeCloseTo(6, 6);
    const untouched = clipByGlobalNorm(gradients, 100);
    expect(Array.from(untouched[0]?.dataSync() ?? [])).toEqual([3, 4]);
    tf.dispose([...gradients, ...clipped, ...untouched]);
  });

  it('measures the global norm as a number, NaN when a gradient holds one', () => {
    const gradients = [tf.tensor1d([3, 4]), tf.tensor1d([12])];
    const poisoned = tf.tensor1d([1, Number.NaN]);
    const before = tf.memory().numTensors;
    expect(globalNorm(gradients)).toBeCloseTo(13, 5);
    expect(globalNorm([...gradients, poisoned])).toBeNaN();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...gradients, poisoned]);
  });

  it('applies the clipped gradient in a training step', async () => {
    const data = blobs(8);
    const model = tinyModel(2);
    const trainable = model.trainableWeights.map(
      (weight) => (weight as unknown as { val: tf.Variable }).val,
    );
    const start = trainable.map((variable) => Array.from(variable.dataSync()));
    // The reference step, computed outside the loop: gradient of the batch's mean cross-entropy,
    // clipped by hand, one plain SGD step of rate 0.5.
    const order = Array.from({ length: 8 }, (_, i) => i);
    const { images, labels } = data.batch(order);
    const { grads } = tf.variableGrads(() => {
      const output = model.apply(images, { training: true }) as tf.Tensor;
      const targets = tf.oneHot(labels as tf.Tensor1D, 3);
      return tf.neg(
        tf.mean(tf.sum(tf.mul(targets, tf.log(tf.add(output, 1e-7))), -1)),
      ) as tf.Scalar;
    }, trainable);
    const raw = trainable.map((variable) => Array.from(grads[variable.name]?.dataSync() ?? []));
    const norm = Math.sqrt(raw.flat().reduce((sum, value) => sum + value * value, 0));
    expect(norm).toBeGreaterThan(0.05);
    const expected = start.map((values, i) =>
      values.map((value, j) => value - 0.5 * (raw[i]?.[j] as number) * (0.05 / norm)),
    );
    tf.dispose([images, labels, ...Object.values(grads)]);
    // The data order does not matter for one full batch; batch-norm statistics are not trainable.
    const reported: number[] = [];
    await train(
      {
        model,
        data,
        numClasses: 3,
        epochs: 1,
        batchSize: 8,
        optimizer: new Sgd({ momentum: 0, nesterov: false }),
        schedule: constant(0.5),
        clipNorm: 0.05,
      },
      { onEvent: (event) => event.type === 'step' && reported.push(event.gradientNorm) },
    );
    // The step reports the norm before clipping.
    expect(reported).toHaveLength(1);
    expect(reported[0]).toBeCloseTo(norm, 5);
    trainable.forEach((variable, i) => {
      const actual = Array.from(variable.dataSync());
      for (const [j, value] of actual.entries())
        expect(value).toBeCloseTo(expected[i]?.[j] as number, 5);
    });
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
    const accuracies: number[] = [];
    const epochSeconds: number[] = [];
    const runStarted = performance.now();
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
          if (event.type === 'epoch') {
            countsAtEpochEnd.push(tf.memory().numTensors);
            epochSeconds.push(event.seconds);
          }
          if (event.type === 'step') {
            steps.push(event.step);
            accuracies.push(event.accuracy);
          }
        },
      },
    );
    const runSeconds = (performance.now() - runStarted) / 1000;
    expect(result.status).toBe('completed');
    expect(steps).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
    // Each epoch's own wall time: positive, and together within the whole call's.
    expect(epochSeconds).toHaveLength(6);
    expect(epochSeconds.every((seconds) => seconds > 0)).toBe(true);
    expect(epochSeconds.reduce((sum, seconds) => sum + seconds, 0)).toBeLessThanOrEqual(runSeconds);
    expect(result.epochs.at(-1)?.loss as number).toBeLessThan(
      (result.epochs[0]?.loss as number) * 0.7,
    );
    expect(result.epochs.at(-1)?.validation?.accuracy).toBeGreaterThan(0.9);
    // Batch accuracy as reported per step: 16 examples per batch, so multiples of 1/16, rising with training.
    expect(accuracies.every((value) => Number.isInteger(value * 16) && value <= 1)).toBe(true);
    const mean = (values: number[]) =>
      values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(mean(accuracies.slice(-6))).toBeGreaterThan(mean(accuracies.slice(0, 6)));
    expect(new Set(countsAtEpochEnd.slice(1)).size).toBe(1);
  });

  it('tells the data the step and epoch of each batch, for augmentation that depends on them', async () => {
    const data = blobs(16);
    const calls: Array<[number | undefined, number | undefined]> = [];
    const recording: TrainingData = {
      size: data.size,
      batch(indices, step, epoch) {
        calls.push([step, epoch]);
        return data.batch(indices);
      },
    };
    await train({
      model: tinyModel(8),
      data: recording,
      numClasses: 3,
      epochs: 2,
      batchSize: 8,
      optimizer: new Sgd(),
      schedule: constant(0.01),
    });
    expect(calls).toEqual([
      [0, 0],
      [1, 0],
      [2, 1],
      [3, 1],
    ]);
  });

  it('scales learning rates by weight name: a scale of 0 keeps those weights where they started', async () => {
    const model = tinyModel(4);
    const before = weightsOf(model);
    await train({
      model,
      data: blobs(32),
      numClasses: 3,
      epochs: 1,
      batchSize: 8,
      optimizer: new Sgd({ weightDecay: 0 }),
      schedule: constant(0.1),
      rateScale: (name) => (name.endsWith('/beta') ? 0 : 1),
    });
    const after = weightsOf(model);
    model.weights.forEach((weight, index) => {
      if (weight.originalName.endsWith('/beta')) expect(after[index]).toEqual(before[index]);
      else expect(after[index]).not.toEqual(before[index]);
    });
  });

  it.each([
    ['', undefined],
    [' with lookahead averaging from the second epoch', { every: 2, fromEpoch: 1 }],
  ] as const)('resumes after an interruption to bit-identical weights%s', async (_, averaging) => {
    const config = (directory: string) => ({
      ...(averaging ? { lookahead: new Lookahead(averaging) } : {}),
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

  it('returns the weights to their lookahead average: with ρ = 1 they end where the first average took them', async () => {
    const model = tinyModel(6);
    let firstAverage: number[][] = [];
    const plain = tinyModel(6);
    const config = {
      data: blobs(32),
      numClasses: 3,
      epochs: 3,
      batchSize: 8,
      optimizer: new Sgd({ weightDecay: 0 }),
      schedule: constant(0.1),
      seed: 2,
    };
    await train(
      {
        ...config,
        model,
        lookahead: new Lookahead({ every: 3, fromEpoch: 1, decay: 1, power: 0 }),
      },
      {
        // Steps 5–8 are epoch 1: step 6 takes the first average, after its update.
        onEvent: (event) => {
          if (event.type === 'step' && event.step === 6) firstAverage = weightsOf(model);
        },
      },
    );
    expect(weightsOf(model)).toEqual(firstAverage);
    await train({ ...config, model: plain, optimizer: new Sgd({ weightDecay: 0 }) });
    expect(weightsOf(plain)).not.toEqual(firstAverage);
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

  it('stops on NaN gradients under a finite loss with a typed error, before they reach the weights', async () => {
    // √ of a ReLU is finite forwards, but its derivative at the ReLU's zeros is ∞ · 0 = NaN.
    class SqrtOfRelu extends tfl.layers.Layer {
      static readonly className = 'SqrtOfRelu';
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.sqrt(tf.relu(Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs));
      }
    }
    const input = tfl.input({ shape: [1, 1, 2] });
    let x = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
    x = tfl.layers
      .dense({ units: 8, kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) })
      .apply(x) as tfl.SymbolicTensor;
    x = new SqrtOfRelu({}).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(x) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: x });
    const before = weightsOf(model);
    const directory = mkdtempSync(join(tmpdir(), 'imgcls-ckpt-nan-gradient-'));
    const error = await train({
      model,
      data: blobs(16),
      numClasses: 3,
      epochs: 1,
      batchSize: 8,
      optimizer: new Sgd(),
      schedule: constant(0.05),
      checkpointDir: directory,
      checkpointEvery: 1,
    }).catch((thrown: unknown) => thrown);
    expect(ImgclsError.isInstance(error, 'NON_FINITE_GRADIENT'), JSON.stringify(error)).toBe(true);
    expect((error as { step: number }).step).toBe(0);
    expect((error as Error).message).toContain('NaN');
    expect(weightsOf(model)).toEqual(before);
  });

  it('trains on class-probability labels exactly as on the integer labels they encode', async () => {
    const oneHot = (data: TrainingData): TrainingData => ({
      size: data.size,
      batch(indices) {
        const { images, labels } = data.batch(indices);
        const probabilities = tf.tidy(
          () => tf.cast(tf.oneHot(labels as tf.Tensor1D, 3), 'float32') as tf.Tensor2D,
        );
        labels.dispose();
        return { images, labels: probabilities };
      },
    });
    const config = {
      numClasses: 3,
      epochs: 2,
      batchSize: 8,
      schedule: constant(0.05),
      labelSmoothing: 0.1,
      validation: oneHot(blobs(12)),
    };
    const hard = tinyModel(4);
    const soft = tinyModel(4);
    await train({ ...config, model: hard, data: blobs(24), optimizer: new Sgd() });
    const result = await train({
      ...config,
      model: soft,
      data: oneHot(blobs(24)),
      optimizer: new Sgd(),
    });
    expect(weightsOf(soft)).toEqual(weightsOf(hard));
    expect(result.epochs[1]?.validation?.accuracy).toBeGreaterThan(0.5);
  });

  it('sums the training time of every process that ran a part of a resumed run (the run and each epoch), up to its last checkpoint', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'imgcls-ckpt-time-'));
    const epochSeconds: number[] = [];
    // Each process has its own clock origin; every step takes 10 s on it. Epochs are 5 steps.
    const run = (origin: number, stopAt?: { step: number; crash: boolean }) => {
      let clock = origin;
      const controller = new AbortController();
      return train(
        {
          model: tinyModel(5),
          data: blobs(40),
          numClasses: 3,
          epochs: 3,
          batchSize: 8,
          optimizer: new Sgd(),
          schedule: constant(0.1),
          checkpointDir: directory,
          checkpointEvery: 2,
        },
        {
          now: () => clock * 1000,
          signal: controller.signal,
          onEvent: (event) => {
            if (event.type === 'epoch') epochSeconds[event.epoch] = event.seconds;
            if (event.type !== 'step') return;
            clock += 10;
            if (event.step !== stopAt?.step) return;
            if (stopAt.crash) throw new Error('killed');
            controller.abort();
          },
        },
      );
    };
    // Killed after step 7: the checkpoint of step 6 (60 s) is what survives; step 7 is redone.
    await expect(run(500, { step: 7, crash: true })).rejects.toThrow('killed');
    const checkpoint = JSON.parse(readFileSync(join(directory, 'checkpoint.json'), 'utf8'));
    expect([checkpoint.step, checkpoint.seconds]).toEqual([6, 60]);
    // Interrupted cleanly after step 11: 60 s earlier + 5 steps here, checkpointed on the way out.
    const interrupted = await run(9000, { step: 11, crash: false });
    expect([interrupted.status, interrupted.seconds]).toEqual(['aborted', 110]);
    const finished = await run(20);
    expect([finished.status, finished.step, finished.seconds]).toEqual(['completed', 15, 150]);
    // The second epoch (steps 6-10) ran in the first two processes, the third (11-15) in the last two.
    expect(epochSeconds).toEqual([50, 50, 50]);
  });

  it('names changed settings when refusing to resume, and resumes checkpoints that predate settings', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'imgcls-ckpt-settings-'));
    const base = {
      data: blobs(16),
      numClasses: 3,
      batchSize: 8,
      epochs: 2,
      optimizer: new Sgd(),
      schedule: constant(0.01),
      checkpointDir: directory,
      settings: { learningRate: 0.01 },
    };
    const controller = new AbortController();
    await train(
      { ...base, model: tinyModel(1), clipNorm: 5 },
      {
        signal: controller.signal,
        onEvent: (event) => event.type === 'step' && controller.abort(),
      },
    );
    const manifest = JSON.parse(readFileSync(join(directory, 'checkpoint.json'), 'utf8'));
    expect(manifest.settings).toMatchObject({ clipNorm: 5, learningRate: 0.01 });
    // Options added later are recorded only when used, so older checkpoints still resume.
    expect(Object.keys(manifest.settings)).not.toContain('rateScales');
    expect(Object.keys(manifest.settings)).not.toContain('lookahead');
    const changed = await train({ ...base, model: tinyModel(1), clipNorm: 1 }).catch(
      (thrown: unknown) => thrown,
    );
    expect(ImgclsError.isInstance(changed, 'CHECKPOINT_INVALID')).toBe(true);
    expect((changed as Error).message).toContain('clipNorm was 5, now 1');
    const data = { ...blobs(16), settings: { augmentation: { cutout: 8 } } };
    const otherData = await train({ ...base, data, model: tinyModel(1), clipNorm: 5 }).catch(
      (thrown: unknown) => thrown,
    );
    expect((otherData as Error).message).toContain(
      'data was null, now {"augmentation":{"cutout":8}}',
    );
    // A checkpoint written before settings were recorded resumes on its configuration key alone.
    delete manifest.settings;
    writeFileSync(join(directory, 'checkpoint.json'), JSON.stringify(manifest));
    const events: string[] = [];
    const resumed = await train(
      { ...base, model: tinyModel(1), clipNorm: 1 },
      { onEvent: (event) => events.push(event.type) },
    );
    expect(events[0]).toBe('resumed');
    expect(resumed.status).toBe('completed');
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
