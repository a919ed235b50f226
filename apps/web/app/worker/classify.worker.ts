/// <reference lib="webworker" />
import { type ImageClassifier, loadClassifier } from '@imgcls/classifier';
import { decodeImage, ImgclsError } from '@imgcls/preprocess';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { DEMO_MODELS, type DemoModelId, type WorkerMessage, type WorkerRequest } from './protocol';

// Models load once per worker, are warmed up by loadClassifier, and are reused for every image.
setWasmPaths('/tfjs-wasm/');
const post = (message: WorkerMessage) => self.postMessage(message);
const classifiers = new Map<DemoModelId, Promise<ImageClassifier | undefined>>();

/** The first of the candidate registry ids that loads; the last error when none does. */
async function loadFirst(candidates: readonly string[]): Promise<ImageClassifier> {
  let lastError: unknown;
  for (const candidate of candidates) {
    try {
      return await loadClassifier(candidate);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function classifierFor(model: DemoModelId): Promise<ImageClassifier | undefined> {
  let loading = classifiers.get(model);
  if (!loading) {
    post({ type: 'status', model, state: 'loading' });
    const candidates = DEMO_MODELS.find((entry) => entry.id === model)?.candidates ?? [model];
    loading = loadFirst(candidates).then(
      (classifier) => {
        const info = classifier.info();
        post({ type: 'status', model, state: 'ready', backend: info.backend, name: info.name });
        return classifier;
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        const hint =
          model === 'mobilenet-v2'
            ? 'Without network access, import it once: imgcls models import mobilenet_v2_1.0_224_quant.tflite --labels imagenet_labels.txt --id mobilenet-v2, then rebuild the app.'
            : 'No CIFAR-10 model is in models/ yet: train one with imgcls train, then rebuild the app.';
        post({ type: 'unavailable', model, message: `${reason} ${hint}` });
        return undefined;
      },
    );
    classifiers.set(model, loading);
  }
  return loading;
}

for (const { id } of DEMO_MODELS) void classifierFor(id);

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const { requestId, file } = event.data;
  let image: Awaited<ReturnType<typeof decodeImage>>;
  try {
    image = await decodeImage(file, { maxPixels: 40_000_000 });
  } catch (error) {
    const code = ImgclsError.isInstance(error) ? error.code : 'INVALID_IMAGE';
    post({
      type: 'input-error',
      requestId,
      code,
      message: error instanceof Error ? error.message : String(error),
    });
    return;
  }
  for (const { id } of DEMO_MODELS) {
    const classifier = await classifierFor(id);
    if (!classifier) continue;
    const started = performance.now();
    const predictions = await classifier.classify(image, { topK: 5 });
    post({
      type: 'result',
      requestId,
      model: id,
      predictions,
      milliseconds: performance.now() - started,
    });
  }
};
