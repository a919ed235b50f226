import { parentPort } from 'node:worker_threads';
import { type ImageClassifier, loadClassifier } from '@imgcls/classifier';
import { type ModelSourceKind, resolveModel } from '@imgcls/models';
import { decodeImage, ImgclsError } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import {
  type ImageResult,
  type LoadedModel,
  serializeError,
  type WorkerRequest,
  type WorkerResponse,
} from './protocol';

/**
 * The worker-thread entry the engine starts (built to dist/worker.js): one wasm instance with every
 * served model, answering one batch at a time. TF.js runs here and only here, off the event loop.
 */

const port = parentPort;
if (!port)
  throw new Error('@imgcls/server: worker.js runs inside a worker thread started by the engine.');

const classifiers: ImageClassifier[] = [];
let maxPixels: number | undefined;

function reply(message: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

function classifierOf(model: number): ImageClassifier {
  const classifier = classifiers[model];
  if (!classifier) throw new Error(`No model ${model} in this worker.`);
  return classifier;
}

const decode = (bytes: Uint8Array) => decodeImage(bytes, maxPixels ? { maxPixels } : {});

port.on('message', (request: WorkerRequest) => {
  void handle(request);
});

async function handle(request: WorkerRequest): Promise<void> {
  if (request.type === 'load') {
    try {
      reply({ type: 'loaded', models: await load(request) });
    } catch (error) {
      for (const classifier of classifiers.splice(0)) classifier.dispose();
      reply({ type: 'load-failed', error: serializeError(error) });
    }
    return;
  }
  try {
    switch (request.type) {
      case 'classify':
        reply({
          type: 'classified',
          id: request.id,
          results: await classify(classifierOf(request.model), request.images, request.topK),
        });
        return;
      case 'embed': {
        const classifier = classifierOf(request.model);
        const embedding = await classifier.embed(await decode(request.image));
        reply({ type: 'embedded', id: request.id, embedding }, [embedding.buffer as ArrayBuffer]);
        return;
      }
      case 'explain': {
        const classifier = classifierOf(request.model);
        const explanation = await classifier.explain(
          await decode(request.image),
          request.classIndex !== undefined ? { classIndex: request.classIndex } : {},
        );
        const { data, width, height } = explanation.overlay;
        const png = await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
          raw: { width, height, channels: 4 },
        })
          .png()
          .toBuffer();
        // A fresh, exactly sized buffer: sharp's may be a slice of a larger pool.
        const overlayPng = new Uint8Array(png);
        reply(
          {
            type: 'explained',
            id: request.id,
            explanation: {
              prediction: explanation.prediction,
              layer: explanation.layer,
              width,
              height,
              overlayPng,
            },
          },
          [overlayPng.buffer as ArrayBuffer],
        );
        return;
      }
      case 'stats':
        reply({ type: 'stats', id: request.id, tensors: tf.memory().numTensors });
        return;
    }
  } catch (error) {
    reply({ type: 'failed', id: request.id, error: serializeError(error) });
  }
}

async function load(request: Extract<WorkerRequest, { type: 'load' }>): Promise<LoadedModel[]> {
  maxPixels = request.maxPixels;
  const loaded: LoadedModel[] = [];
  for (const reference of request.references) {
    const started = performance.now();
    // loadClassifier warms the model up (one blank batch) before it resolves.
    const classifier = await loadClassifier(reference, {
      ...request.modelStore,
      backend: 'wasm',
      maxPixels: request.maxPixels,
    });
    const loadSeconds = (performance.now() - started) / 1000;
    classifiers.push(classifier);
    const { metadata } = classifier;
    const info = classifier.info();
    loaded.push({
      id: metadata.id,
      name: metadata.name,
      version: metadata.version,
      labels: metadata.labels,
      preset: metadata.preset,
      source: info.source,
      origin: info.origin,
      checksums: {
        ...(metadata.weightsSha256 ? { weights: metadata.weightsSha256 } : {}),
        ...pinnedFiles(reference, info.source),
      },
      loadSeconds,
    });
  }
  return loaded;
}

/**
 * The SHA-256 pins of the files a registry id was loaded from, when the store checked them: an
 * installed or downloaded model package (every file), a hosted model.json with a pin. A models-folder
 * copy is read as is, so its files are not claimed to match the pins.
 */
function pinnedFiles(reference: string, source: ModelSourceKind): Record<string, string> {
  if (source !== 'package' && source !== 'cdn' && source !== 'url') return {};
  let entry: ReturnType<typeof resolveModel>;
  try {
    entry = resolveModel(reference);
  } catch {
    return {}; // a URL, not a registry id
  }
  if (entry.source.kind === 'package')
    return Object.fromEntries(
      Object.entries(entry.source.package.files).map(([file, pin]) => [file, pin.sha256]),
    );
  return entry.source.sha256 ? { 'model.json': entry.source.sha256 } : {};
}

/**
 * Decodes every image on its own, so that one that fails is that image's error, then runs the others
 * through the model as one batch. Ranked with the batch's largest topK: smaller ones are its prefixes.
 */
async function classify(
  classifier: ImageClassifier,
  images: readonly Uint8Array[],
  topK: number,
): Promise<ImageResult[]> {
  const decoded = await Promise.allSettled(images.map(decode));
  const good = decoded.flatMap((outcome) =>
    outcome.status === 'fulfilled' ? [outcome.value] : [],
  );
  const predictions = good.length > 0 ? await classifier.classifyBatch(good, { topK }) : [];
  let next = 0;
  return decoded.map((outcome) =>
    outcome.status === 'fulfilled'
      ? { predictions: predictions[next++] ?? [] }
      : { error: imageError(outcome.reason) },
  );
}

function imageError(error: unknown): { code: string; message: string } {
  if (ImgclsError.isInstance(error)) return { code: error.code, message: error.message };
  return {
    code: 'INVALID_IMAGE',
    message: `The image could not be read: ${error instanceof Error ? error.message : String(error)}`,
  };
}
