import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitToInput, ImgclsError, normalize } from '@imgcls/preprocess';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradients } from '@imgcls/wasm-grad';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  constant,
  type ImageSet,
  imageSetData,
  readImageArchive,
  Sgd,
  splitIndices,
  train,
} from '../src/index';

/** 24 random 8x8 images in 3 classes, from a fixed linear congruential sequence. */
function randomSet(): ImageSet {
  let state = 99;
  const pixels = Uint8Array.from({ length: 24 * 8 * 8 * 3 }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % 256;
  });
  const labels = Uint8Array.from({ length: 24 }, (_, i) => i % 3);
  return { pixels, labels, count: 24, height: 8, width: 8, classes: ['a', 'b', 'c'] };
}

function tinyConvNet(seed: number): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(
    tfl.layers.conv2d({
      inputShape: [8, 8, 3],
      filters: 4,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
    }),
  );
  model.add(tfl.layers.globalAveragePooling2d({}));
  model.add(
    tfl.layers.dense({
      units: 3,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
    }),
  );
  return model;
}

const fullAugmentation = {
  cropPadding: 2,
  horizontalFlip: true,
  cutout: 3,
  brightness: 0.3,
  contrast: 0.3,
  saturation: 0.3,
  mixup: 0.4,
  cutmix: 1,
  seed: 5,
};

/** A tar.gz of `root/<split>/<class>/<n>.png` solid-colour images, made with sharp and the tar CLI. */
async function archive(sizes: Record<string, number> = {}): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), 'imgcls-archive-'));
  const colours: Record<string, [number, number, number]> = {
    cat: [200, 10, 10],
    dog: [10, 200, 10],
    ship: [10, 10, 200],
  };
  for (const split of ['train', 'test']) {
    for (const [name, [r, g, b]] of Object.entries(colours)) {
      mkdirSync(join(folder, 'data', split, name), { recursive: true });
      for (let i = 0; i < 4; i++) {
        const size = sizes[`${split}/${name}/${i}`] ?? 8;
        const png = await sharp({
          create: { width: size, height: size, channels: 3, background: { r: r + i, g, b } },
        })
          .png()
          .toBuffer();
        writeFileSync(join(folder, 'data', split, name, `${i}.png`), png);
      }
    }
  }
  execFileSync('tar', ['-czf', join(folder, 'data.tar.gz'), '-C', folder, 'data']);
  return join(folder, 'data.tar.gz');
}

describe('image-folder archives as training data', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerWasmGradients();
  });

  it('reads a split with sorted class folders and decoded pixels', async () => {
    const set = await readImageArchive(await archive(), 'train');
    expect([set.count, set.width, set.height]).toEqual([12, 8, 8]);
    expect(set.classes).toEqual(['cat', 'dog', 'ship']);
    const firstDog = Array.from(set.labels).indexOf(1);
    const [red, green, blue] = Array.from(set.pixels.subarray(firstDog * 192, firstDog * 192 + 3));
    expect([green, blue]).toEqual([200, 10]);
    expect(red).toBeGreaterThanOrEqual(10);
    expect(red).toBeLessThanOrEqual(13);
  });

  it('rejects images of different sizes and missing splits with typed errors', async () => {
    const mixed = await archive({ 'train/dog/2': 9 });
    const error = await readImageArchive(mixed, 'train').catch((thrown: unknown) => thrown);
    expect(ImgclsError.isInstance(error, 'DATASET_FORMAT')).toBe(true);
    expect(
      ImgclsError.isInstance(
        await readImageArchive(mixed, 'validation').catch((thrown: unknown) => thrown),
        'DATASET_FORMAT',
      ),
    ).toBe(true);
  });

  it('splits indices disjointly and reproducibly by seed', () => {
    const first = splitIndices(100, 0.2, 7);
    expect(first.validation).toHaveLength(20);
    expect([...first.train, ...first.validation].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    );
    expect(splitIndices(100, 0.2, 7)).toEqual(first);
    expect(splitIndices(100, 0.2, 8).validation).not.toEqual(first.validation);
  });

  it('normalises with the preset and augments deterministically, preserving labels', async () => {
    const set = await readImageArchive(await archive(), 'train');
    const preset = { height: 8, width: 8, resize: 'stretch', range: [0, 1] } as const;
    const plain = imageSetData(set, [0, 5, 9], preset);
    const { images, labels } = plain.batch([0, 1, 2]);
    expect(images.shape).toEqual([3, 8, 8, 3]);
    expect(Array.from(labels.dataSync())).toEqual([set.labels[0], set.labels[5], set.labels[9]]);
    expect(tf.max(images).dataSync()[0]).toBeLessThanOrEqual(1);
    const augmented = imageSetData(
      set,
      Array.from({ length: 12 }, (_, i) => i),
      preset,
      { cropPadding: 2, horizontalFlip: true, seed: 3 },
    );
    const a = augmented.batch([0, 1, 2, 3]);
    const b = augmented.batch([0, 1, 2, 3]);
    expect(Array.from(a.images.dataSync())).toEqual(Array.from(b.images.dataSync()));
    expect(Array.from(a.labels.dataSync())).toEqual(Array.from(set.labels.subarray(0, 4)));
    // Solid images stay solid under crops with reflect padding and flips: augmentation moves pixels, never invents them.
    const before = tf.memory().numTensors;
    const c = augmented.batch([4, 5, 6, 7]);
    expect(tf.memory().numTensors - before).toBe(2);
    tf.dispose([images, labels, a.images, a.labels, b.images, b.labels, c.images, c.labels]);
  });

  it('fits images of another size to the model input exactly as serving fits one image', () => {
    const set = randomSet();
    const stride = set.height * set.width * 3;
    for (const resize of ['stretch', 'center-crop', 'letterbox'] as const) {
      const preset = {
        height: 20,
        width: 12,
        resize,
        range: [-1, 1],
        fill: [10, 20, 30],
      } as const;
      const { images, labels } = imageSetData(set, [3, 7], preset).batch([0, 1]);
      expect(images.shape).toEqual([2, 20, 12, 3]);
      const served = tf.tidy(() =>
        tf.stack(
          [3, 7].map((index) =>
            normalize(
              fitToInput(
                {
                  data: set.pixels.subarray(index * stride, (index + 1) * stride),
                  width: set.width,
                  height: set.height,
                },
                preset,
              ),
              preset,
            ),
          ),
        ),
      );
      const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(images, served))).dataSync()[0]);
      expect(difference, resize).toBeLessThan(1e-6);
      tf.dispose([images, labels, served]);
    }
  });

  it('draws augmentation by training step, reproducibly, and keeps integer labels', () => {
    const set = randomSet();
    const preset = { height: 8, width: 8, resize: 'stretch', range: [0, 1] } as const;
    const data = imageSetData(
      set,
      Array.from({ length: 24 }, (_, i) => i),
      preset,
      {
        ...fullAugmentation,
        mixup: 0,
        cutmix: 0,
      },
    );
    const bytes = (step: number) => {
      const { images, labels } = data.batch([3, 4, 5, 6], step);
      const out = { images: Array.from(images.dataSync()), labels: Array.from(labels.dataSync()) };
      tf.dispose([images, labels]);
      return out;
    };
    const first = bytes(7);
    expect(bytes(7)).toEqual(first);
    expect(bytes(8).images).not.toEqual(first.images);
    expect(first.labels).toEqual([0, 1, 2, 0]);
    expect(data.settings).toEqual({
      augmentation: {
        cropPadding: 2,
        horizontalFlip: true,
        cutout: 3,
        brightness: 0.3,
        contrast: 0.3,
        saturation: 0.3,
        seed: 5,
      },
    });
  });

  it('mirrors each example in every other epoch with alternating flips', () => {
    const preset = { height: 8, width: 8, resize: 'stretch', range: [0, 1] } as const;
    const data = imageSetData(randomSet(), [0, 1, 2, 3, 4, 5], preset, {
      horizontalFlip: 'alternate',
      seed: 2,
    });
    const images = (epoch: number) => {
      const batch = data.batch([0, 1, 2, 3, 4, 5], 3, epoch);
      const values = batch.images.arraySync() as number[][][][];
      tf.dispose([batch.images, batch.labels]);
      return values;
    };
    const [even, odd] = [images(0), images(1)];
    // Same step, other epoch parity: every image is the mirror of itself.
    expect(odd).toEqual(even.map((image) => image.map((row) => [...row].reverse())));
    expect(images(2)).toEqual(even);
    expect(data.settings).toEqual({ augmentation: { horizontalFlip: 'alternate', seed: 2 } });
  });

  it('turns labels into class probabilities with mixup or CutMix', () => {
    const set = randomSet();
    const preset = { height: 8, width: 8, resize: 'stretch', range: [0, 1] } as const;
    const data = imageSetData(
      set,
      Array.from({ length: 24 }, (_, i) => i),
      preset,
      fullAugmentation,
    );
    for (let step = 0; step < 6; step++) {
      const { images, labels } = data.batch([0, 1, 2, 3, 4, 5], step);
      expect(labels.shape).toEqual([6, 3]);
      const rows = labels.arraySync() as number[][];
      for (const [row, probabilities] of rows.entries()) {
        expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        // The image's own class keeps a share: its weight λ (or 1 when mixed with its own class).
        expect(probabilities[row % 3]).toBeGreaterThan(0);
      }
      tf.dispose([images, labels]);
    }
  });

  it('resumes an augmented, mixed run to bit-identical weights', async () => {
    const set = randomSet();
    const preset = { height: 8, width: 8, resize: 'stretch', range: [0, 1] } as const;
    const config = (checkpointDir: string) => ({
      data: imageSetData(
        set,
        Array.from({ length: 24 }, (_, i) => i),
        preset,
        fullAugmentation,
      ),
      numClasses: 3,
      epochs: 2,
      batchSize: 6,
      schedule: constant(0.05),
      seed: 2,
      checkpointDir,
    });
    const straight = tinyConvNet(1);
    await train({
      ...config(mkdtempSync(join(tmpdir(), 'imgcls-aug-a-'))),
      model: straight,
      optimizer: new Sgd(),
    });
    const directory = mkdtempSync(join(tmpdir(), 'imgcls-aug-b-'));
    const controller = new AbortController();
    await train(
      { ...config(directory), model: tinyConvNet(1), optimizer: new Sgd() },
      {
        signal: controller.signal,
        onEvent: (event) => event.type === 'step' && event.step === 5 && controller.abort(),
      },
    );
    const manifest = JSON.parse(readFileSync(join(directory, 'checkpoint.json'), 'utf8'));
    expect(manifest.settings.data.augmentation.mixup).toBe(0.4);
    const resumed = tinyConvNet(50);
    await train({ ...config(directory), model: resumed, optimizer: new Sgd() });
    const weights = (model: tfl.LayersModel) =>
      model.weights.map((weight) => Array.from(weight.read().dataSync()));
    expect(weights(resumed)).toEqual(weights(straight));
  });
});
