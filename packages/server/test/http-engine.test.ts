import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ImageClassifier, loadClassifier, type Prediction } from '@imgcls/classifier';
import { ImgclsError } from '@imgcls/preprocess';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';
import { createServer } from '../src/index';
import { expectProblem, form, postImage } from './http-client';
import { hugeHeader, pngImage } from './images';

// createServer with the real engine: worker threads running dist/worker.js, so the package must be
// built first (turbo does it: `@imgcls/server#test` depends on `build`). The reference is the
// library itself, in this process, on the same backend.

const SEEDCNN_FOLDER = join(import.meta.dirname, '../../../models/cifar10-seedcnn');
const PHOTOS = sharedData('photos');

let app: FastifyInstance;
let url: string;
let reference: ImageClassifier;
let images: Uint8Array[];

beforeAll(async () => {
  [reference, app, images] = await Promise.all([
    loadClassifier(SEEDCNN_FOLDER, { backend: 'wasm' }),
    // The registry id loads the installed @imgcls/model-cifar10-seedcnn; the folder serves as "folder".
    createServer({
      models: [{ reference: 'cifar10-seedcnn' }, { reference: SEEDCNN_FOLDER, id: 'folder' }],
      workers: 1,
      logger: false,
    }),
    Promise.all(Array.from({ length: 6 }, (_, seed) => pngImage(32, seed + 1))),
  ]);
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app?.close();
  reference?.dispose();
});

const classifyUrl = (model = 'cifar10-seedcnn', query = '') =>
  `${url}/v1/models/${model}/classify${query}`;

describe('createServer on the real engine', () => {
  it('is ready once the models are loaded, and lists them with their pins', async () => {
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const { models } = (await (await fetch(`${url}/v1/models`)).json()) as {
      models: {
        id: string;
        labels: string[];
        version: string;
        source: string;
        checksums: Record<string, string>;
      }[];
    };
    expect(models.map((model) => model.id)).toEqual(['cifar10-seedcnn', 'folder']);
    expect(models[0]).toMatchObject({
      labels: reference.metadata.labels,
      version: reference.metadata.version,
      source: 'package',
    });
    expect(Object.keys(models[0]?.checksums ?? {}).sort()).toEqual([
      'metadata.json',
      'model.json',
      'weights.bin',
    ]);
  });

  it("answers the library's own predictions for the same image, body or multipart", async () => {
    const expected = await Promise.all(
      images.map((image) => reference.classify(image, { topK: 5 })),
    );
    const bodies = await Promise.all(images.map((image) => postImage(classifyUrl(), image)));
    for (const [index, response] of bodies.entries()) {
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ input: 'body', predictions: expected[index] });
    }
    const multipart = await fetch(classifyUrl('folder'), {
      method: 'POST',
      body: form(images.map((bytes, index) => ({ name: `noise-${index}.png`, bytes }))),
    });
    expect(await multipart.json()).toEqual({
      outcomes: expected.map((predictions, index) => ({
        input: `noise-${index}.png`,
        predictions,
      })),
    });
  });

  it('answers JPEG as octet-stream and topK 10 as the library does', async () => {
    const jpeg = new Uint8Array(await sharp(images[0]!).jpeg({ quality: 80 }).toBuffer());
    const response = await postImage(
      classifyUrl('cifar10-seedcnn', '?topK=10'),
      jpeg,
      'application/octet-stream',
    );
    const { predictions } = (await response.json()) as { predictions: Prediction[] };
    expect(predictions).toEqual(await reference.classify(jpeg, { topK: 10 }));
  });

  describe.skipIf(!PHOTOS)('real photos (shared data)', () => {
    it('classifies BMP photos exactly as the library does', async () => {
      const names = ['cat.bmp', 'bird.bmp', 'grace_hopper.bmp'];
      const photos = await Promise.all(names.map((name) => readFile(join(PHOTOS!, name))));
      const response = await fetch(classifyUrl('cifar10-seedcnn', '?topK=3'), {
        method: 'POST',
        body: form(
          names.map((name, index) => ({ name, bytes: photos[index]!, type: 'image/bmp' })),
        ),
      });
      const expected = await Promise.all(
        photos.map((photo) => reference.classify(photo, { topK: 3 })),
      );
      expect(await response.json()).toEqual({
        outcomes: names.map((name, index) => ({ input: name, predictions: expected[index] })),
      });
    });
  });

  it('embeds and explains as the library does', async () => {
    const embedded = await postImage(`${url}/v1/models/cifar10-seedcnn/embed`, images[1]!);
    const { embedding, dimensions } = (await embedded.json()) as {
      embedding: number[];
      dimensions: number;
    };
    const expected = Array.from(await reference.embed(images[1]!));
    expect(dimensions).toBe(expected.length);
    expect(embedding).toEqual(expected);

    const explained = await postImage(
      classifyUrl('cifar10-seedcnn', '?explain=gradcam&topK=1'),
      images[1]!,
    );
    const outcome = (await explained.json()) as {
      predictions: Prediction[];
      explanation: { prediction: Prediction; width: number; height: number; overlayPng: string };
    };
    expect(outcome.explanation.prediction).toEqual(outcome.predictions[0]);
    expect(outcome.predictions).toEqual(await reference.classify(images[1]!, { topK: 1 }));
    const overlay = await sharp(Buffer.from(outcome.explanation.overlayPng, 'base64')).metadata();
    expect([overlay.format, overlay.width, overlay.height, overlay.channels]).toEqual([
      'png',
      32,
      32,
      4,
    ]);
  });

  it("answers bad images with the library's typed errors as 4xx problems", async () => {
    const truncated = images[2]!.subarray(0, 60);
    await expectProblem(await postImage(classifyUrl(), truncated), 422, 'INVALID_IMAGE');
    await expectProblem(
      await postImage(classifyUrl(), Buffer.from('GIF89a but not really')),
      422,
      'INVALID_IMAGE',
    );
    await expectProblem(
      await postImage(classifyUrl(), Buffer.from('{"json":true}')),
      422,
      'INVALID_IMAGE',
    );
    const bomb = await expectProblem(
      await postImage(classifyUrl(), hugeHeader(images[0]!)),
      422,
      'IMAGE_TOO_LARGE',
    );
    expect(bomb.detail).toMatch(/60000x60000/);
    await expectProblem(
      await postImage(`${url}/v1/models/cifar10-seedcnn/embed`, truncated),
      422,
      'INVALID_IMAGE',
    );
    await expectProblem(await postImage(classifyUrl('nope'), images[0]!), 404, 'UNKNOWN_MODEL');
  });

  it('exports the engine tensor count, batch sizes and model load times', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/^imgcls_tfjs_tensors [1-9]\d*$/m);
    expect(text).toMatch(/^imgcls_queue_depth 0$/m);
    expect(text).toMatch(/^imgcls_batch_size_count\{model="cifar10-seedcnn"\} [1-9]\d*$/m);
    expect(text).toMatch(/^imgcls_model_load_seconds\{model="folder"\} [\d.e-]+$/m);
    expect(text).toMatch(/^imgcls_engine_ready 1$/m);
  });
});

describe('createServer options', () => {
  it('refuses invalid options before loading any model', async () => {
    for (const [options, message] of [
      [{ models: [] }, /at least one model/],
      [{ models: [{ reference: 'cifar10-seedcnn', id: 'a/b' }] }, /models\[0\]\.id/],
      [{ models: [{ reference: 'cifar10-seedcnn' }], bodyLimit: -1 }, /bodyLimit/],
      [{ models: [{ reference: 'cifar10-seedcnn' }], workers: 0 }, /workers/],
    ] as const) {
      const started = Date.now();
      const error = await createServer(options as never).catch((caught: unknown) => caught);
      expect(ImgclsError.isInstance(error, 'INVALID_ARGUMENT'), String(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect(Date.now() - started).toBeLessThan(1_000);
    }
  });
});
