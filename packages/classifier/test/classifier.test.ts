import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directoryHandler, type ModelMetadata, writeMetadata } from '@imgcls/models/node';
import { ImgclsError } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadClassifier, selectBackend } from '../src/index';

const LABELS = ['red', 'green', 'blue'];
const PRESET = { height: 8, width: 8, resize: 'stretch', range: [0, 1] } as const;

function metadataFor(labels: readonly string[]): ModelMetadata {
  return {
    schemaVersion: 1,
    id: 'tiny-colours',
    name: 'Tiny colours',
    version: '1',
    format: 'layers-model',
    labels,
    output: 'probabilities',
    preset: PRESET,
  };
}

/** A small conv net with fixed weights, saved with metadata; returns the folder. */
async function saveTinyModel(
  labels: readonly string[] = LABELS,
): Promise<{ directory: string; model: tfl.LayersModel }> {
  const input = tfl.input({ shape: [8, 8, 3] });
  let x = tfl.layers
    .conv2d({
      filters: 4,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    })
    .apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: 'features' }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers
    .dense({
      units: 3,
      activation: 'softmax',
      name: 'predictions',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
    })
    .apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output });
  const directory = mkdtempSync(join(tmpdir(), 'imgcls-classifier-'));
  await model.save(directoryHandler(directory));
  await writeMetadata(directory, metadataFor(labels));
  return { directory, model };
}

async function png(
  colour: { r: number; g: number; b: number },
  width = 20,
  height = 12,
): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toBuffer();
}

describe('loadClassifier', () => {
  let tiny: Awaited<ReturnType<typeof saveTinyModel>>;
  beforeAll(async () => {
    expect(await selectBackend('auto')).toBe('wasm'); // tfjs-node is not installed here
    tiny = await saveTinyModel();
  });

  it('loads a layers model from a folder, runs on wasm, and matches the model on the same input', async () => {
    const classifier = await loadClassifier(tiny.directory);
    expect(classifier.info()).toMatchObject({
      backend: 'wasm',
      format: 'layers-model',
      labels: 3,
      inputSize: { height: 8, width: 8 },
    });
    const image = await png({ r: 200, g: 30, b: 90 });
    const predictions = await classifier.classify(image, { topK: 3 });
    expect(predictions.map((p) => p.label).sort()).toEqual([...LABELS].sort());
    expect(predictions.reduce((sum, p) => sum + p.probability, 0)).toBeCloseTo(1, 5);
    // Independent path: the same pixels normalised by hand, through the in-memory model.
    const manual = tf.tidy(() =>
      tf.mul(tf.ones([1, 8, 8, 3]), tf.tensor1d([200 / 255, 30 / 255, 90 / 255])),
    );
    const expected = (tiny.model.predict(manual) as tf.Tensor).dataSync();
    for (const prediction of predictions)
      expect(prediction.probability).toBeCloseTo(expected[prediction.index] as number, 5);
    expect(await classifier.embed(image)).toHaveLength(4);
    manual.dispose();
    classifier.dispose();
  });

  it('classifies batches in order', async () => {
    const classifier = await loadClassifier(tiny.directory);
    const images = [await png({ r: 255, g: 0, b: 0 }), await png({ r: 0, g: 0, b: 255 })];
    const batch = await classifier.classifyBatch(images, { topK: 1 });
    const single = await Promise.all(
      images.map((image) => classifier.classify(image, { topK: 1 })),
    );
    expect(batch.map((row) => row[0]?.index)).toEqual(single.map((row) => row[0]?.index));
    classifier.dispose();
  });

  it('keeps tf.memory().numTensors flat over 1,000 classify calls', async () => {
    const classifier = await loadClassifier(tiny.directory);
    const image = { data: new Uint8Array(16 * 16 * 3).fill(128), width: 16, height: 16 };
    await classifier.classify(image);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) await classifier.classify(image, { topK: 2 });
    expect(tf.memory().numTensors).toBe(before);
    classifier.dispose();
  });

  it('averages the views the metadata asks for, unless told none, leaking no tensors', async () => {
    const { directory } = await saveTinyModel();
    await writeMetadata(directory, { ...metadataFor(LABELS), testTimeAugmentation: 'flip' });
    const averaged = await loadClassifier(directory);
    const single = await loadClassifier(directory, { testTimeAugmentation: 'none' });
    expect(averaged.info().testTimeAugmentation).toBe('flip');
    expect(single.info().testTimeAugmentation).toBeUndefined();
    // Left half red, right half blue: the mirror is a different image, so the average differs from it.
    const data = new Uint8Array(8 * 8 * 3);
    for (let pixel = 0; pixel < 64; pixel++)
      data.set(pixel % 8 < 4 ? [255, 0, 0] : [0, 0, 255], pixel * 3);
    const image = { data, width: 8, height: 8 };
    const mirrored = new Uint8Array(8 * 8 * 3);
    for (let pixel = 0; pixel < 64; pixel++)
      mirrored.set(pixel % 8 < 4 ? [0, 0, 255] : [255, 0, 0], pixel * 3);
    const [plain, flipped] = await single.probabilities([
      image,
      { data: mirrored, width: 8, height: 8 },
    ]);
    const [mean] = await averaged.probabilities([image]);
    for (let label = 0; label < 3; label++)
      expect(mean?.[label]).toBeCloseTo(
        ((plain?.[label] as number) + (flipped?.[label] as number)) / 2,
        5,
      );
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) await averaged.classify(image);
    expect(tf.memory().numTensors).toBe(before);
    await expect(
      loadClassifier(directory, { testTimeAugmentation: 'rotate' as 'flip' }),
    ).rejects.toThrow(/testTimeAugmentation/);
    averaged.dispose();
    single.dispose();
  });

  it('loads over HTTP from a local server, with the metadata beside model.json', async () => {
    const files = new Map(
      readdirSync(tiny.directory).map((name) => [
        `/tiny/${name}`,
        readFileSync(join(tiny.directory, name)),
      ]),
    );
    const server = createServer((request, response) => {
      const body = files.get(request.url ?? '');
      if (body) response.writeHead(200, { 'content-length': String(body.length) }).end(body);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tiny/model.json`;
      const classifier = await loadClassifier(url, {
        cacheDir: mkdtempSync(join(tmpdir(), 'imgcls-cache-')),
      });
      expect(classifier.info().origin).toBe(url);
      expect(await classifier.classify(await png({ r: 0, g: 255, b: 0 }))).toHaveLength(3);
      classifier.dispose();
    } finally {
      server.close();
    }
  });

  it('loads from an IOHandler with metadata passed in', async () => {
    const classifier = await loadClassifier(directoryHandler(tiny.directory), {
      metadata: metadataFor(LABELS),
    });
    expect(classifier.info().origin).toBe('IOHandler');
    classifier.dispose();
  });

  it('rejects a label count that does not match the outputs', async () => {
    const wrong = await saveTinyModel(['a', 'b']);
    const error = await loadClassifier(wrong.directory).catch((thrown: unknown) => thrown);
    expect(ImgclsError.isInstance(error, 'LABEL_MISMATCH')).toBe(true);
  });

  it('rejects unknown ids, missing folders and bad images with typed errors', async () => {
    expect(
      ImgclsError.isInstance(
        await loadClassifier('resnet-1000').catch((e: unknown) => e),
        'UNKNOWN_MODEL',
      ),
    ).toBe(true);
    expect(
      ImgclsError.isInstance(
        await loadClassifier('./no/such/model').catch((e: unknown) => e),
        'MODEL_LOAD_FAILED',
      ),
    ).toBe(true);
    const classifier = await loadClassifier(tiny.directory);
    const before = tf.memory().numTensors;
    const error = await classifier
      .classify(new TextEncoder().encode('not an image'))
      .catch((e: unknown) => e);
    expect(ImgclsError.isInstance(error, 'INVALID_IMAGE')).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    classifier.dispose();
  });

  it('throws DisposedError after dispose', async () => {
    const classifier = await loadClassifier(tiny.directory);
    classifier.dispose();
    expect(
      ImgclsError.isInstance(
        await classifier.classify(await png({ r: 1, g: 2, b: 3 })).catch((e: unknown) => e),
        'DISPOSED',
      ),
    ).toBe(true);
    expect(() => classifier.info()).toThrow(/disposed/);
  });
});

describe('loadClassifier with a built-in id', () => {
  it('loads cifar10 from its installed model package, exactly as the repository folder, and says so', async () => {
    const images = await Promise.all(
      [
        { r: 200, g: 30, b: 40 },
        { r: 20, g: 180, b: 90 },
        { r: 70, g: 60, b: 220 },
      ].map((colour) => png(colour, 32, 32)),
    );
    const packaged = await loadClassifier('cifar10', { allowRemote: false });
    const folder = await loadClassifier(
      join(import.meta.dirname, '../../../models/cifar10-airbench-float16'),
    );
    expect(packaged.info().source).toBe('package');
    expect(folder.info().source).toBe('path');
    expect(packaged.info().id).toBe('cifar10-airbench-float16');
    expect(await packaged.probabilities(images)).toEqual(await folder.probabilities(images));
    packaged.dispose();
    folder.dispose();
  });
});
