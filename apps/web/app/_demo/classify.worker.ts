/// <reference lib="webworker" />
import {
  type ImageClassifier,
  loadClassifier,
  modelSettings,
  selectBackend,
} from '@imgcls/classifier';
import { type DecodedImage, decodeImage, fitToInput, ImgclsError } from '@imgcls/preprocess';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { env } from '@tensorflow/tfjs-core';
import { chooseBackend } from './choose-backend';
import {
  DEMO_MODELS,
  type DemoModelId,
  MAX_IMAGE_PIXELS,
  type ModelInputPicture,
  type WorkerMessage,
  type WorkerRequest,
} from './protocol';

// The wasm binaries are served by the app itself (copied into public/ before the build), never fetched
// from a CDN, so the demo works offline.
setWasmPaths('/tfjs-wasm/');
// Models come through the model store, configured as any app configures it. The app is its own npm CDN
// mirror: prepare-public lays the model packages it depends on out under /cdn/ in the CDN's URL layout, so
// the CIFAR-10 model is downloaded from this origin, checked file by file against the registry's pins and
// kept in Cache Storage (offline from then on). Models that are not packages (an `imgcls models import` of
// MobileNetV2) are copied into /models/, the models folder, which the store tries first.
modelSettings.remoteHost = `${self.location.origin}/cdn`;
modelSettings.modelsFolder = '/models/';
// tfjs starts its wasm threads from the source text of a bundled function, which loses the bundle's
// imports (ReferenceError in every pthread worker, tfjs #4539), so the demo runs single-threaded SIMD.
env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
const post = (message: WorkerMessage, transfer: Transferable[] = []) =>
  self.postMessage(message, transfer);

const requestedBackend = chooseBackend();
// The backend starts once, before either panel loads. Two concurrent loadClassifier calls would each
// start it, and the second would go on while wasm is still initialising (tf.setBackend names the backend
// before its asynchronous start ends): a model read quickly from Cache Storage then fails with "Backend
// 'wasm' has not yet been initialized". A backend that cannot start is reported by loadClassifier itself.
const backendStarted = selectBackend(requestedBackend).catch(() => undefined);
/** One classifier per panel for the worker's lifetime: loaded (and warmed up by loadClassifier) once. */
const classifiers = new Map<DemoModelId, Promise<ImageClassifier | undefined>>();

/** The first of the candidate registry ids that loads; the preferred one's error when none does. */
async function loadFirst(candidates: readonly string[]): Promise<ImageClassifier> {
  await backendStarted;
  const errors: unknown[] = [];
  for (const candidate of candidates) {
    try {
      return await loadClassifier(candidate, { backend: requestedBackend });
    } catch (error) {
      // The panel shows why the preferred candidate failed; the console keeps every candidate's reason.
      console.warn(`${candidate} did not load: ${messageOf(error)}`);
      errors.push(error);
    }
  }
  throw errors[0];
}

function classifierFor(model: (typeof DEMO_MODELS)[number]): Promise<ImageClassifier | undefined> {
  let loading = classifiers.get(model.id);
  if (!loading) {
    post({ type: 'loading', model: model.id });
    loading = loadFirst(model.candidates).then(
      (classifier) => {
        const { name, backend, inputSize, source, origin } = classifier.info();
        post({ type: 'ready', model: model.id, name, backend, inputSize, source, origin });
        return classifier;
      },
      (error: unknown) => {
        post({ type: 'unavailable', model: model.id, reason: messageOf(error) });
        return undefined;
      },
    );
    classifiers.set(model.id, loading);
  }
  return loading;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The image resized the way the model's preset resizes it, as RGBA for a canvas. */
async function modelInputPicture(
  image: DecodedImage,
  classifier: ImageClassifier,
): Promise<ModelInputPicture> {
  const resized = fitToInput(image, classifier.metadata.preset);
  const [height, width] = resized.shape;
  const rgb = await resized.data();
  resized.dispose();
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let pixel = 0; pixel < width * height; pixel++) {
    rgba.set(rgb.subarray(pixel * 3, pixel * 3 + 3), pixel * 4);
    rgba[pixel * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

async function decode(
  request: Extract<WorkerRequest, { type: 'classify' }>,
): Promise<DecodedImage | undefined> {
  try {
    return await decodeImage(request.image, { maxPixels: MAX_IMAGE_PIXELS });
  } catch (error) {
    post({
      type: 'input-error',
      requestId: request.requestId,
      code: ImgclsError.isInstance(error) ? error.code : 'INVALID_IMAGE',
      message: messageOf(error),
    });
    return undefined;
  } finally {
    if (request.image instanceof ImageBitmap) request.image.close();
  }
}

/** The latest decoded image, kept so a Grad-CAM toggled on afterwards needs no new upload. */
let latest: { readonly requestId: number; readonly image: DecodedImage } | undefined;

/** Grad-CAM of the model's top class over what the model saw, posted as an overlay picture. */
async function explain(requestId: number, model: (typeof DEMO_MODELS)[number]): Promise<void> {
  const classifier = await classifierFor(model);
  if (!classifier || latest?.requestId !== requestId) return;
  try {
    const started = performance.now();
    const { prediction, overlay } = await classifier.explain(latest.image);
    const picture: ModelInputPicture = {
      width: overlay.width,
      height: overlay.height,
      rgba: new Uint8ClampedArray(overlay.data),
    };
    post(
      {
        type: 'explanation',
        requestId,
        model: model.id,
        label: prediction.label,
        overlay: picture,
        milliseconds: performance.now() - started,
      },
      [picture.rgba.buffer],
    );
  } catch (error) {
    post({
      type: 'input-error',
      requestId,
      code: ImgclsError.isInstance(error) ? error.code : 'EXPLAIN_FAILED',
      message: `${model.title} could not explain this image: ${messageOf(error)}`,
    });
  }
}

for (const model of DEMO_MODELS) void classifierFor(model);

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === 'explain') {
    const model = DEMO_MODELS.find(({ id }) => id === request.model);
    if (model) await explain(request.requestId, model);
    return;
  }
  const image = await decode(request);
  if (image) latest = { requestId: request.requestId, image };
  if (image) {
    for (const model of DEMO_MODELS) {
      const classifier = await classifierFor(model);
      if (!classifier) continue;
      try {
        const started = performance.now();
        const predictions = await classifier.classify(image, { topK: 5 });
        const milliseconds = performance.now() - started;
        const modelInput = await modelInputPicture(image, classifier);
        post(
          {
            type: 'result',
            requestId: request.requestId,
            model: model.id,
            predictions,
            milliseconds,
            modelInput,
          },
          [modelInput.rgba.buffer],
        );
        if (request.explain.includes(model.id)) await explain(request.requestId, model);
      } catch (error) {
        post({
          type: 'input-error',
          requestId: request.requestId,
          code: ImgclsError.isInstance(error) ? error.code : 'CLASSIFY_FAILED',
          message: `${model.title} could not classify this image: ${messageOf(error)}`,
        });
      }
    }
  }
  post({ type: 'done', requestId: request.requestId });
};
