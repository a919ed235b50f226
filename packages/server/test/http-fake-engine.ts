import type { ClassifyOutcome } from '@imgcls/classifier';
import { ImgclsError, sniffFormat } from '@imgcls/preprocess';
import sharp from 'sharp';
import type {
  ClassifyOptions,
  Engine,
  EngineStats,
  ServedExplanation,
  ServedModel,
} from '../src/engine/types';

/**
 * An Engine that needs no model and no worker, for testing the HTTP layer's every route and error
 * path: it "classifies" a PNG or JPEG by its size, reports other bytes as INVALID_IMAGE and PNG
 * headers above maxPixels as IMAGE_TOO_LARGE (as the real engine does, per image), and can be held
 * (`hold()`) to fill its queue or pass a deadline.
 */
export class FakeEngine implements Engine {
  ready = true;
  closeCalls = 0;
  /** Every classify call: its model, image count and options. */
  readonly calls: { model: string; images: number; options: ClassifyOptions | undefined }[] = [];
  /** Make the next calls reject with this error (e.g. a plain Error, to check nothing leaks). */
  failWith: unknown;
  private pending = 0;
  private gate: Promise<void> | undefined;
  private release: (() => void) | undefined;
  private readonly listeners: ((model: string, size: number) => void)[] = [];
  private closed = false;

  constructor(
    readonly options: { queue?: number; maxPixels?: number; retryAfterSeconds?: number } = {},
  ) {}

  static readonly LABELS = ['cat', 'dog', 'bird', 'ship', 'frog', 'horse', 'truck'];

  models(): readonly ServedModel[] {
    return [
      {
        id: 'fake',
        name: 'Fake classifier',
        version: '1.2.3',
        labels: FakeEngine.LABELS,
        preset: { inputSize: { height: 32, width: 32 }, range: [0, 1] },
        source: 'path',
        origin: '/models/fake',
        checksums: { 'weights.bin': 'ab'.repeat(32) },
        loadSeconds: 0.25,
      },
    ];
  }

  /** Holds every call until {@link releaseAll}. */
  hold(): void {
    this.gate = new Promise((resolve) => {
      this.release = resolve;
    });
  }

  releaseAll(): void {
    this.release?.();
    this.gate = undefined;
  }

  get queueDepth(): number {
    return this.pending;
  }

  private async admit<T>(
    model: string,
    count: number,
    options: Pick<ClassifyOptions, 'deadline' | 'signal'> | undefined,
    run: () => Promise<T>,
  ): Promise<T> {
    if (this.closed)
      throw new ImgclsError('SHUTTING_DOWN', 'The inference engine is shutting down.');
    if (this.failWith !== undefined) throw this.failWith;
    if (!this.models().some((served) => served.id === model))
      throw new ImgclsError('UNKNOWN_MODEL', `No model "${model}" is served here.`);
    const capacity = this.options.queue ?? 256;
    if (this.pending + count > capacity)
      throw Object.assign(
        new ImgclsError('QUEUE_FULL', `The inference queue is full (${capacity}).`),
        {
          retryAfterSeconds: this.options.retryAfterSeconds ?? 3,
        },
      );
    this.pending += count;
    try {
      if (this.gate) {
        const waits: Promise<unknown>[] = [this.gate];
        if (options?.deadline !== undefined)
          waits.push(
            new Promise((_, reject) =>
              setTimeout(
                () =>
                  reject(
                    new ImgclsError('DEADLINE_EXCEEDED', 'The request timed out in the queue.'),
                  ),
                Math.max(0, options.deadline! - Date.now()),
              ),
            ),
          );
        if (options?.signal)
          waits.push(
            new Promise((_, reject) =>
              options.signal!.addEventListener('abort', () =>
                reject(new ImgclsError('ABORTED', 'The request was cancelled.')),
              ),
            ),
          );
        await Promise.race(waits);
      }
      for (const listener of this.listeners) listener(model, count);
      return await run();
    } finally {
      this.pending -= count;
    }
  }

  private check(bytes: Uint8Array): { code: string; message: string } | undefined {
    if (bytes.length === 0) return { code: 'INVALID_IMAGE', message: 'The image is empty.' };
    const format = sniffFormat(bytes);
    if (format !== 'png' && format !== 'jpeg')
      return { code: 'INVALID_IMAGE', message: 'The input is not an image.' };
    if (format === 'png') {
      if (bytes.length < 33) return { code: 'INVALID_IMAGE', message: 'The PNG is truncated.' };
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const pixels = view.getUint32(16) * view.getUint32(20);
      if (pixels > (this.options.maxPixels ?? 50_000_000))
        return { code: 'IMAGE_TOO_LARGE', message: `The image has ${pixels} pixels.` };
    }
    return undefined;
  }

  /** The fake's answer for good bytes: labels ranked by the byte length, probabilities summing to 1. */
  static predictionsFor(bytes: Uint8Array, topK = 5) {
    const first = bytes.length % FakeEngine.LABELS.length;
    return Array.from({ length: Math.min(topK, FakeEngine.LABELS.length) }, (_, rank) => {
      const index = (first + rank) % FakeEngine.LABELS.length;
      return { label: FakeEngine.LABELS[index]!, index, probability: 0.5 ** (rank + 1) };
    });
  }

  classify(
    model: string,
    images: readonly Uint8Array[],
    options?: ClassifyOptions,
  ): Promise<ClassifyOutcome[]> {
    this.calls.push({ model, images: images.length, options });
    return this.admit(model, images.length, options, async () =>
      images.map((bytes, index): ClassifyOutcome => {
        const input = options?.names?.[index] ?? String(index);
        const error = this.check(bytes);
        return error
          ? { input, error }
          : { input, predictions: FakeEngine.predictionsFor(bytes, options?.topK) };
      }),
    );
  }

  embed(
    model: string,
    image: Uint8Array,
    options?: Pick<ClassifyOptions, 'deadline' | 'signal'>,
  ): Promise<Float32Array> {
    return this.admit(model, 1, options, async () => {
      const error = this.check(image);
      if (error) throw new ImgclsError(error.code, error.message);
      return new Float32Array([image.length, 0.5, -1]);
    });
  }

  explain(
    model: string,
    image: Uint8Array,
    options?: Pick<ClassifyOptions, 'deadline' | 'signal'> & { readonly classIndex?: number },
  ): Promise<ServedExplanation> {
    return this.admit(model, 1, options, async () => {
      const error = this.check(image);
      if (error) throw new ImgclsError(error.code, error.message);
      const overlay = await sharp(Buffer.alloc(32 * 32 * 4, 128), {
        raw: { width: 32, height: 32, channels: 4 },
      })
        .png()
        .toBuffer();
      return {
        prediction: FakeEngine.predictionsFor(image, 1)[0]!,
        layer: 'conv2d_3',
        width: 32,
        height: 32,
        overlayPng: new Uint8Array(overlay),
      };
    });
  }

  onBatch(listener: (model: string, size: number) => void): void {
    this.listeners.push(listener);
  }

  async stats(): Promise<EngineStats> {
    return { queueDepth: this.pending, tensors: 42 };
  }

  async close(): Promise<void> {
    this.closeCalls++;
    this.closed = true;
    this.ready = false;
  }
}
