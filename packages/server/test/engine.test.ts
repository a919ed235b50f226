import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type ClassifyOutcome,
  type ImageClassifier,
  loadClassifier,
  type Prediction,
} from '@imgcls/classifier';
import { ImgclsError } from '@imgcls/preprocess';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_INTERNALS, type EngineInternals } from '../src/engine/engine';
import { createEngine, DEFAULT_ENGINE_OPTIONS, type Engine } from '../src/engine/index';
import { hugeHeader, noiseImage } from './images';

// Real worker threads running dist/worker.js: turbo builds the package before its tests
// (`@imgcls/server#test` in turbo.json); by hand, `turbo run build --filter=@imgcls/server` first.

const PACKAGE = join(import.meta.dirname, '..');
const SEEDCNN_FOLDER = join(PACKAGE, '../../models/cifar10-seedcnn');

async function rejection(promise: Promise<unknown>): Promise<ImgclsError> {
  try {
    await promise;
  } catch (error) {
    return error as ImgclsError;
  }
  throw new Error('expected a rejection');
}

function predictionsOf(outcome: ClassifyOutcome | undefined): readonly Prediction[] {
  if (!outcome || !('predictions' in outcome))
    throw new Error(`no predictions: ${JSON.stringify(outcome)}`);
  return outcome.predictions;
}

const internals = (engine: Engine): EngineInternals =>
  (engine as unknown as { [ENGINE_INTERNALS](): EngineInternals })[ENGINE_INTERNALS]();

const until = async (condition: () => boolean, timeoutMs = 20_000) => {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

let images: Uint8Array[];
let reference: ImageClassifier;

beforeAll(async () => {
  images = await Promise.all(
    Array.from({ length: 32 }, (_, seed) => noiseImage(seed + 1, 32, 'png')),
  );
  // The independent reference: the library in this process, on the same backend.
  reference = await loadClassifier(SEEDCNN_FOLDER, { backend: 'wasm' });
});

afterAll(() => reference?.dispose());

describe('createEngine', () => {
  it('checks its options at the boundary, naming the option and its range', async () => {
    const models = [{ reference: 'cifar10-seedcnn' }];
    for (const [options, named] of [
      [{ models, workers: 0 }, /workers must be an integer from 1 to 64, got 0/],
      [{ models, maxBatch: 2.5 }, /maxBatch must be an integer from 1 to 1,024/],
      [{ models, maxWaitMs: -1 }, /maxWaitMs must be a number from 0 to 10,000/],
      [{ models, queue: Number.NaN }, /queue must be an integer/],
      [{ models: [] }, /models must list at least one model/],
      [{ models: [{ reference: 'a', id: 'x/y' }] }, /models\[0\]\.id must be/],
    ] as const) {
      const error = await rejection(createEngine(options));
      expect(ImgclsError.isInstance(error, 'INVALID_ARGUMENT')).toBe(true);
      expect(error.message).toMatch(named);
    }
    expect(DEFAULT_ENGINE_OPTIONS).toMatchObject({ workers: 1, maxBatch: 32, queue: 256 });
  });

  it("rejects with the library's typed error when a model cannot load, and leaves no worker running", async () => {
    // In a child process: a worker left running would keep it alive past its last line.
    const script = `
      const { createEngine } = await import(${JSON.stringify(join(PACKAGE, 'dist/index.js'))});
      try {
        await createEngine({ models: [{ reference: ${JSON.stringify(SEEDCNN_FOLDER)} }, { reference: './no-such-model' }], workers: 2 });
      } catch (error) { console.log(JSON.stringify({ name: error.name, code: error.code })); }`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script],
      { timeout: 30_000 },
    );
    expect(JSON.parse(stdout)).toEqual({ name: 'ModelLoadError', code: 'MODEL_LOAD_FAILED' });
  });
});

describe('an engine with two workers and two models', () => {
  let engine: Engine;
  const batches: { model: string; size: number }[] = [];

  beforeAll(async () => {
    engine = await createEngine({
      models: [{ reference: 'cifar10-seedcnn' }, { reference: SEEDCNN_FOLDER, id: 'folder' }],
      workers: 2,
      maxBatch: 16,
      maxWaitMs: 5,
    });
    engine.onBatch((model, size) => batches.push({ model, size }));
  });

  afterAll(() => engine?.close());

  it('is ready and lists each model with its metadata, pinned checksums and load time', () => {
    expect(engine.ready).toBe(true);
    const [packaged, folder] = engine.models();
    expect(packaged).toMatchObject({
      id: 'cifar10-seedcnn',
      labels: reference.metadata.labels,
      version: reference.metadata.version,
      preset: reference.metadata.preset,
      source: 'package',
    });
    // The installed package was checked against these pins by the model store.
    expect(Object.keys(packaged?.checksums ?? {}).sort()).toEqual([
      'metadata.json',
      'model.json',
      'weights.bin',
    ]);
    expect(packaged?.checksums['weights.bin']).toMatch(/^[0-9a-f]{64}$/);
    expect(packaged?.loadSeconds).toBeGreaterThan(0);
    // A caller's folder is read as is: no pins are claimed for it.
    expect(folder).toMatchObject({ id: 'folder', source: 'path', checksums: {} });
  });

  it('answers what the library answers in-process for the same images', async () => {
    const batch = images.slice(0, 8);
    const expected = await reference.classifyBatch(batch, { topK: 3 });
    const outcomes = await engine.classify('cifar10-seedcnn', batch, { topK: 3 });
    expect(outcomes).toEqual(
      expected.map((predictions, index) => ({ input: String(index), predictions })),
    );
    const named = await engine.classify('folder', batch.slice(0, 2), { names: ['a.png', 'b.png'] });
    expect(named.map((outcome) => outcome.input)).toEqual(['a.png', 'b.png']);
  });

  it('answers per image: good, corrupt and 60000×60000-header images in one call', async () => {
    const [good, other] = images as [Uint8Array, Uint8Array];
    const outcomes = await engine.classify('cifar10-seedcnn', [
      good,
      good.slice(0, good.length / 2),
      hugeHeader(good),
      new TextEncoder().encode('not an image'),
      other,
    ]);
    const expected = await reference.classifyBatch([good, other]);
    expect(outcomes.map((outcome) => ('error' in outcome ? outcome.error.code : 'ok'))).toEqual([
      'ok',
      'INVALID_IMAGE',
      'IMAGE_TOO_LARGE',
      'INVALID_IMAGE',
      'ok',
    ]);
    expect(outcomes[0]).toEqual({ input: '0', predictions: expected[0] });
    expect(outcomes[4]).toEqual({ input: '4', predictions: expected[1] });
    expect((outcomes[2] as { error: { message: string } }).error.message).toMatch(/60000x60000/);
  });

  it('coalesces concurrent calls into batches and uses both workers', async () => {
    batches.length = 0;
    const before = internals(engine)
      .threads()
      .map((thread) => thread.batches);
    const calls = Array.from({ length: 64 }, (_, index) =>
      engine.classify('cifar10-seedcnn', [images[index % images.length] as Uint8Array], {
        topK: 1,
      }),
    );
    const outcomes = await Promise.all(calls);
    const expected = await reference.classifyBatch(images, { topK: 1 });
    outcomes.forEach(([outcome], index) => {
      expect(predictionsOf(outcome)).toEqual(expected[index % images.length]);
    });
    const sizes = batches.map(({ size }) => size);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(64);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16);
    const after = internals(engine)
      .threads()
      .map((thread) => thread.batches);
    expect(
      after.map((count, index) => count - (before[index] ?? 0)).every((count) => count > 0),
    ).toBe(true);
    console.log(
      `64 concurrent single-image calls ran as ${sizes.length} batches: ${sizes.join(', ')}`,
    );
  });

  it('never splits a call across batches unless it alone exceeds maxBatch', async () => {
    batches.length = 0;
    const calls = [10, 10, 40].map((count) =>
      engine.classify(
        'folder',
        Array.from({ length: count }, (_, index) => images[index % 32] as Uint8Array),
      ),
    );
    const outcomes = await Promise.all(calls);
    expect(outcomes.map((outcome) => outcome.length)).toEqual([10, 10, 40]);
    expect(outcomes[2]?.map((outcome) => outcome.input)).toEqual(
      Array.from({ length: 40 }, (_, index) => String(index)),
    );
    // 10 and 10 cannot share a batch of 16, so the first goes alone; the 40, larger than a batch on
    // its own, is cut into chunks that fill batches (the first beside the second 10).
    const sizes = batches.map(({ size }) => size);
    expect(sizes).toEqual([10, 16, 16, 16, 2]);
  });

  it('embeds and explains through the same queue', async () => {
    const image = images[3] as Uint8Array;
    const embedding = await engine.embed('cifar10-seedcnn', image);
    expect(Array.from(embedding)).toEqual(Array.from(await reference.embed(image)));

    const explanation = await engine.explain('cifar10-seedcnn', image);
    const [top] = await reference.classify(image, { topK: 1 });
    expect(explanation.prediction).toEqual(top);
    expect([explanation.width, explanation.height]).toEqual([32, 32]);
    const png = await sharp(explanation.overlayPng).metadata();
    expect([png.format, png.width, png.height, png.channels]).toEqual(['png', 32, 32, 4]);
    const chosen = await engine.explain('cifar10-seedcnn', image, { classIndex: 7 });
    expect(chosen.prediction.index).toBe(7);

    const bad = await rejection(engine.embed('cifar10-seedcnn', new Uint8Array([1, 2, 3])));
    expect(ImgclsError.isInstance(bad, 'INVALID_IMAGE')).toBe(true);
    const index = await rejection(engine.explain('cifar10-seedcnn', image, { classIndex: 10 }));
    expect(index.message).toMatch(/classIndex must be an integer from 0 to 9/);
  });

  it('rejects an unknown model, listing the served ids', async () => {
    const error = await rejection(engine.classify('nope', [images[0] as Uint8Array]));
    expect(ImgclsError.isInstance(error, 'UNKNOWN_MODEL')).toBe(true);
    expect(error.message).toContain('"cifar10-seedcnn", "folder"');
  });

  it('keeps the tensor count flat across 500 classify calls', async () => {
    const before = await engine.stats();
    expect(before.tensors).toBeGreaterThan(0);
    for (let round = 0; round < 10; round++)
      await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          engine.classify(index % 2 ? 'folder' : 'cifar10-seedcnn', [
            images[index % 32] as Uint8Array,
          ]),
        ),
      );
    const after = await engine.stats();
    expect(after).toEqual({ queueDepth: 0, tensors: before.tensors });
  });

  it('replaces a worker that crashes and rejects its batch with a typed error', async () => {
    const call = engine.classify('folder', images.slice(0, 16)); // a full batch: sent at once
    const busy = internals(engine)
      .threads()
      .find((thread) => thread.busy);
    expect(busy).toBeDefined();
    await busy?.kill();
    const error = await rejection(call);
    expect(ImgclsError.isInstance(error, 'WORKER_CRASHED')).toBe(true);
    await until(() => internals(engine).threads().length === 2);
    const outcomes = await engine.classify('folder', images.slice(0, 2));
    expect(outcomes.every((outcome) => 'predictions' in outcome)).toBe(true);
  });
});

describe('one worker: queue, deadlines, cancellation, batching and close', () => {
  let engine: Engine;
  let large: Uint8Array[];

  beforeAll(async () => {
    engine = await createEngine({
      models: [{ reference: SEEDCNN_FOLDER, id: 'seedcnn' }],
      maxBatch: 16,
    });
    // Large JPEGs keep a batch running for a while (decoding and resizing them is the work).
    large = await Promise.all(
      Array.from({ length: 16 }, (_, seed) => noiseImage(seed + 100, 768, 'jpeg')),
    );
  });

  afterAll(() => engine?.close());

  it('rejects a call that would overfill the queue at once, with a retry estimate', async () => {
    const filler = engine.classify(
      'seedcnn',
      Array.from({ length: 200 }, (_, index) => images[index % 32] as Uint8Array),
    );
    const hundred = Array.from({ length: 100 }, (_, index) => images[index % 32] as Uint8Array);
    const error = await rejection(engine.classify('seedcnn', hundred));
    expect(ImgclsError.isInstance(error, 'QUEUE_FULL')).toBe(true);
    expect(
      (error as unknown as { retryAfterSeconds: number }).retryAfterSeconds,
    ).toBeGreaterThanOrEqual(1);
    expect((await filler).length).toBe(200);
    const tooMany = await rejection(
      engine.classify(
        'seedcnn',
        Array.from({ length: 257 }, () => images[0] as Uint8Array),
      ),
    );
    expect(ImgclsError.isInstance(tooMany, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('rejects a call whose deadline passes while it waits, and removes it from the queue', async () => {
    const running = engine.classify('seedcnn', large);
    const late = engine.classify('seedcnn', images.slice(0, 4), { deadline: Date.now() + 20 });
    expect((await engine.stats()).queueDepth).toBe(20);
    const error = await rejection(late);
    expect(ImgclsError.isInstance(error, 'DEADLINE_EXCEEDED')).toBe(true);
    expect((error as unknown as { queued: boolean }).queued).toBe(true);
    expect((await engine.stats()).queueDepth).toBe(16);
    await running;
    const past = await rejection(
      engine.classify('seedcnn', images.slice(0, 1), { deadline: Date.now() - 1 }),
    );
    expect(ImgclsError.isInstance(past, 'DEADLINE_EXCEEDED')).toBe(true);
  });

  it('rejects a running call at its deadline and discards its result', async () => {
    const started = Date.now();
    const error = await rejection(engine.classify('seedcnn', large, { deadline: started + 30 }));
    expect(ImgclsError.isInstance(error, 'DEADLINE_EXCEEDED')).toBe(true);
    expect((error as unknown as { queued: boolean }).queued).toBe(false);
    // The batch still occupies the worker until it ends; then the queue is empty again.
    const outcomes = await engine.classify('seedcnn', images.slice(0, 1));
    expect('predictions' in (outcomes[0] as ClassifyOutcome)).toBe(true);
    expect((await engine.stats()).queueDepth).toBe(0);
  });

  it('cancels a queued call when its signal aborts', async () => {
    const running = engine.classify('seedcnn', large);
    const controller = new AbortController();
    const cancelled = engine.classify('seedcnn', images.slice(0, 2), { signal: controller.signal });
    controller.abort();
    const error = await rejection(cancelled);
    expect(ImgclsError.isInstance(error, 'ABORTED')).toBe(true);
    expect((await engine.stats()).queueDepth).toBe(16);
    await running;
  });

  it('is faster with micro-batching than with maxBatch 1 (measured, printed)', async () => {
    const unbatched = await createEngine({
      models: [{ reference: SEEDCNN_FOLDER, id: 'seedcnn' }],
      maxBatch: 1,
    });
    try {
      const run = async (target: Engine) => {
        const sizes: number[] = [];
        target.onBatch((_, size) => sizes.push(size));
        const started = performance.now();
        const outcomes = await Promise.all(
          Array.from({ length: 128 }, (_, index) =>
            target.classify('seedcnn', [images[index % 32] as Uint8Array], { topK: 1 }),
          ),
        );
        return { seconds: (performance.now() - started) / 1000, sizes, outcomes };
      };
      await run(unbatched); // both engines warm
      const one = await run(unbatched);
      const batched = await run(engine);
      expect(one.sizes.every((size) => size === 1)).toBe(true);
      expect(Math.max(...batched.sizes)).toBeGreaterThan(1);
      const labels = (result: typeof one) =>
        result.outcomes.map(([outcome]) => predictionsOf(outcome)[0]?.label);
      expect(labels(batched)).toEqual(labels(one));
      const mean = batched.sizes.reduce((sum, size) => sum + size, 0) / batched.sizes.length;
      console.log(
        `128 concurrent single-image calls, 1 worker: maxBatch 1 ${one.seconds.toFixed(3)} s (${(128 / one.seconds).toFixed(0)} img/s), ` +
          `maxBatch 16 ${batched.seconds.toFixed(3)} s (${(128 / batched.seconds).toFixed(0)} img/s, mean batch ${mean.toFixed(1)}): ` +
          `${(one.seconds / batched.seconds).toFixed(2)}x`,
      );
    } finally {
      await unbatched.close();
    }
  });

  it('close() lets queued and running work finish, then refuses new work', async () => {
    const inFlight = [
      engine.classify('seedcnn', large),
      engine.classify('seedcnn', images.slice(0, 4)),
    ];
    const closing = engine.close();
    expect(engine.close()).toBe(closing);
    const refused = await rejection(engine.classify('seedcnn', images.slice(0, 1)));
    expect(ImgclsError.isInstance(refused, 'SHUTTING_DOWN')).toBe(true);
    const [first, second] = await Promise.all(inFlight);
    expect(first?.every((outcome) => 'predictions' in outcome)).toBe(true);
    expect(second?.length).toBe(4);
    await closing;
    expect(engine.ready).toBe(false);
    expect(internals(engine).threads()).toEqual([]);
  });
});
