import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage, ImgclsError, type PreprocessPreset, toModelInput } from '@imgcls/preprocess';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradients } from '@imgcls/wasm-grad';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AdamW,
  constant,
  evaluateDataset,
  imageFolderData,
  scanImageFolder,
  splitIndices,
  train,
} from '../src/index';

const preset: PreprocessPreset = {
  height: 8,
  width: 8,
  resize: 'center-crop',
  range: [0, 1],
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.25, 0.25],
};

/** A gradient image (so resizing matters) in the class's colour, of the given size and format. */
async function image(width: number, height: number, hue: number, format: 'png' | 'jpeg' | 'webp') {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      data.set([(hue + x * 9) % 256, (y * 13) % 256, (hue * 3 + x + y) % 256], (y * width + x) * 3);
  return sharp(data, { raw: { width, height, channels: 3 } })
    [format]()
    .toBuffer();
}

/** `root/[split/]<class>/<files>`: classes created in unsorted order, mixed sizes and formats, noise files. */
async function folder(split?: string): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'imgcls-folder-'));
  const base = split ? join(root, split) : root;
  const classes = { zebra: 40, apple: 120, Mango: 200 };
  for (const [name, hue] of Object.entries(classes)) {
    mkdirSync(join(base, name), { recursive: true });
    for (let i = 0; i < 5; i++) {
      const format = (['png', 'jpeg', 'webp'] as const)[i % 3] as 'png' | 'jpeg' | 'webp';
      const extension = format === 'jpeg' ? 'jpg' : format;
      writeFileSync(
        join(base, name, `${i}.${extension}`),
        await image(8 + i * 3, 10 + i, hue, format),
      );
    }
    writeFileSync(join(base, name, 'notes.txt'), 'not an image');
    writeFileSync(join(base, name, '.DS_Store'), 'finder');
  }
  return root;
}

async function batchOf(data: ReturnType<typeof imageFolderData>, indices: number[], step?: number) {
  await data.load?.(indices);
  const { images, labels } = data.batch(indices, step);
  const out = { images: Array.from(images.dataSync()), labels: Array.from(labels.dataSync()) };
  tf.dispose([images, labels]);
  return out;
}

describe('image-folder datasets on disk', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerWasmGradients();
  });

  it('lists classes sorted by code unit and files by class, ignoring non-images', async () => {
    const root = await folder();
    const set = await scanImageFolder(root);
    expect(set.classes).toEqual(['Mango', 'apple', 'zebra']);
    expect(set.count).toBe(15);
    expect(Array.from(set.labels)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    expect(set.files[5]).toBe(join(root, 'apple', '0.png'));
    expect(set.ignored.map((path) => path.slice(root.length + 1)).sort()).toEqual([
      'Mango/notes.txt',
      'apple/notes.txt',
      'zebra/notes.txt',
    ]);
  });

  it('reads train/ and test/ splits, the test split with the training classes', async () => {
    const root = await folder('train');
    const trainSet = await scanImageFolder(root, { split: 'train' });
    mkdirSync(join(root, 'test', 'zebra'), { recursive: true });
    writeFileSync(join(root, 'test', 'zebra', 'a.png'), await image(8, 8, 40, 'png'));
    const testSet = await scanImageFolder(root, { split: 'test', classes: trainSet.classes });
    expect(testSet.classes).toEqual(trainSet.classes);
    expect(Array.from(testSet.labels)).toEqual([2]);
  });

  it('decodes batches lazily with the serving preprocessing, labels intact', async () => {
    const set = await scanImageFolder(await folder());
    const { train } = splitIndices(set.count, 0.2, 3);
    const data = imageFolderData(set, train, preset);
    const positions = [0, 4, 7, 11];
    const { images, labels } = await batchOf(data, positions);
    expect(labels).toEqual(positions.map((p) => set.labels[train[p] as number]));
    // The reference: serving's own path, decode + toModelInput, image by image.
    const decoded = await Promise.all(
      positions.map((p) => decodeImage(set.files[train[p] as number] as string)),
    );
    const expected = toModelInput(decoded, preset);
    const reference = Array.from(expected.dataSync());
    expected.dispose();
    for (const [i, value] of images.entries()) expect(value).toBeCloseTo(reference[i] as number, 4);
  });

  it('augments reproducibly by step and keeps the tensor count flat', async () => {
    const set = await scanImageFolder(await folder());
    const indices = Array.from({ length: set.count }, (_, i) => i);
    const data = imageFolderData(set, indices, preset, {
      augmentation: { cropPadding: 2, horizontalFlip: true, cutout: 2, brightness: 0.2, seed: 1 },
    });
    const first = await batchOf(data, [1, 2, 3], 4);
    expect(await batchOf(data, [1, 2, 3], 4)).toEqual(first);
    expect((await batchOf(data, [1, 2, 3], 5)).images).not.toEqual(first.images);
    const before = tf.memory().numTensors;
    for (let step = 0; step < 4; step++) await batchOf(data, [step, step + 5, step + 10], step);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('holds at most prefetch + 1 decoded batches', async () => {
    const set = await scanImageFolder(await folder());
    const data = imageFolderData(
      set,
      Array.from({ length: 15 }, (_, i) => i),
      preset,
      { prefetch: 1 },
    );
    await data.load?.([0, 1]);
    await data.load?.([2, 3]);
    tf.dispose(Object.values(data.batch([0, 1])));
    await data.load?.([4, 5]);
    // [0, 1] was evicted to keep two batches: asking for it again needs a new load.
    expect(() => data.batch([0, 1])).toThrow(/not loaded/);
    tf.dispose(Object.values(data.batch([2, 3])));
    tf.dispose(Object.values(data.batch([4, 5])));
  });

  it('reports files that are not images before training, and undecodable ones with their path', async () => {
    const root = await folder();
    writeFileSync(join(root, 'apple', 'fake.jpg'), 'plain text with a .jpg name');
    writeFileSync(join(root, 'zebra', 'empty.png'), '');
    const error = await scanImageFolder(root).catch((thrown: unknown) => thrown);
    expect(ImgclsError.isInstance(error, 'UNREADABLE_IMAGE')).toBe(true);
    expect((error as { paths: string[] }).paths).toEqual([
      join(root, 'apple', 'fake.jpg'),
      join(root, 'zebra', 'empty.png'),
    ]);

    const clean = await folder();
    const truncatedPath = join(clean, 'apple', '1.jpg');
    const bytes = readFileSync(truncatedPath);
    writeFileSync(truncatedPath, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const set = await scanImageFolder(clean);
    const data = imageFolderData(
      set,
      Array.from({ length: set.count }, (_, i) => i),
      preset,
    );
    const loadError = await data.load?.([5, 6, 7]).catch((thrown: unknown) => thrown);
    expect(ImgclsError.isInstance(loadError, 'UNREADABLE_IMAGE')).toBe(true);
    expect((loadError as Error).message).toContain(truncatedPath);
  });

  it('trains and validates from disk through the loop, with flat memory across epochs', async () => {
    const set = await scanImageFolder(await folder());
    const split = splitIndices(set.count, 0.2, 1);
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, activation: 'relu' }),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    const validation = imageFolderData(set, split.validation, preset);
    const counts: number[] = [];
    const result = await train(
      {
        model,
        data: imageFolderData(set, split.train, preset, {
          augmentation: { horizontalFlip: true, cutout: 2, mixup: 0.2, seed: 1 },
        }),
        validation,
        numClasses: 3,
        epochs: 3,
        batchSize: 4,
        optimizer: new AdamW(),
        schedule: constant(0.01),
      },
      { onEvent: (event) => event.type === 'epoch' && counts.push(tf.memory().numTensors) },
    );
    expect(result.status).toBe('completed');
    expect(result.epochs[2]?.validation?.accuracy).toBeGreaterThanOrEqual(0);
    expect(new Set(counts).size).toBe(1);
    const evaluated = await evaluateDataset(model, validation, { numClasses: 3, batchSize: 2 });
    expect(evaluated.accuracy).toBe(result.epochs[2]?.validation?.accuracy);
  });

  it('rejects a folder without class sub-folders with a typed error', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'imgcls-folder-empty-'));
    const error = await scanImageFolder(empty).catch((thrown: unknown) => thrown);
    expect(ImgclsError.isInstance(error, 'DATASET_FORMAT')).toBe(true);
  });
});
