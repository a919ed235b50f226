/**
 * The models the demo shows side by side. Each panel takes the first registry id that loads, through the
 * model store as any app's would: the CIFAR-10 panel prefers airbench, then the ResNet-9, then the
 * prototype's architecture trained by imgcls, each the model package this app depends on, served by the
 * app's own mirror (/cdn/, see classify.worker.ts); MobileNetV2 is the TF.js team's hosted model, or a
 * local import of it in the models folder (/models/). `whenUnavailable` tells a user what to do when none
 * of a panel's ids loads.
 */
export const DEMO_MODELS = [
  {
    id: 'mobilenet-v2',
    title: 'MobileNetV2',
    subtitle: 'ImageNet, 1000 classes',
    candidates: ['mobilenet-v2'],
    whenUnavailable: {
      text: 'The hosted model cannot be reached (are you offline?). Import a local copy once into models/, then rebuild the app, which serves it from /models/ (the modelsFolder setting):',
      command:
        'imgcls models import mobilenet_v2_1.0_224_quant.tflite --labels imagenet_labels.txt --id mobilenet-v2',
    },
  },
  {
    id: 'cifar10',
    title: 'CIFAR-10 model',
    subtitle: '10 classes, trained by imgcls',
    candidates: ['cifar10', 'cifar10-resnet9', 'cifar10-seedcnn'],
    whenUnavailable: {
      text: 'Its model package (@imgcls/model-cifar10-airbench-float16, a dependency of this app) is served by the app itself from /cdn/, which the build fills from the installed packages, and is kept in Cache Storage (which needs https or localhost). Install and rebuild from the repository root:',
      command: 'node scripts/pnpm.mjs install && npm start',
    },
  },
] as const;

export type DemoModelId = (typeof DEMO_MODELS)[number]['id'];

/** The largest image the demo decodes, in pixels: a 48 MP phone photo fits, a decompression bomb does not. */
export const MAX_IMAGE_PIXELS = 50_000_000;

/** An RGBA picture small enough to post between threads: what a model receives, before normalisation. */
export interface ModelInputPicture {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8ClampedArray<ArrayBuffer>;
}

/** Page → worker. */
export type WorkerRequest =
  /** Classify one image with every available model. */
  | {
      readonly type: 'classify';
      readonly requestId: number;
      /** A file (checked and decoded in the worker) or a camera frame (transferred, closed after use). */
      readonly image: Blob | ImageBitmap;
      /** Models that also explain their top class with Grad-CAM (none for camera frames: too slow). */
      readonly explain: readonly DemoModelId[];
    }
  /** Explain one model's top class for the image of `requestId`, if it is still the latest image. */
  | { readonly type: 'explain'; readonly requestId: number; readonly model: DemoModelId };

/** Worker → page. */
export type WorkerMessage =
  | { readonly type: 'loading'; readonly model: DemoModelId }
  | {
      readonly type: 'ready';
      readonly model: DemoModelId;
      /** The name of the model that loaded (the first candidate that worked). */
      readonly name: string;
      readonly backend: string;
      /** Which source of the model store served it (`cdn`: the package mirror; `models-folder`; `url`). */
      readonly source: string;
      /** The model.json URL or folder it came from. */
      readonly origin: string;
      readonly inputSize: { readonly height: number; readonly width: number };
    }
  | { readonly type: 'unavailable'; readonly model: DemoModelId; readonly reason: string }
  | {
      readonly type: 'result';
      readonly requestId: number;
      readonly model: DemoModelId;
      readonly predictions: ReadonlyArray<{ readonly label: string; readonly probability: number }>;
      readonly milliseconds: number;
      readonly modelInput: ModelInputPicture;
    }
  | {
      readonly type: 'explanation';
      readonly requestId: number;
      readonly model: DemoModelId;
      /** The class explained: the model's top prediction. */
      readonly label: string;
      /** The Grad-CAM heatmap blended over the model's input picture. */
      readonly overlay: ModelInputPicture;
      readonly milliseconds: number;
    }
  | {
      readonly type: 'input-error';
      readonly requestId: number;
      /** The error's stable code, e.g. `INVALID_IMAGE` or `IMAGE_TOO_LARGE`. */
      readonly code: string;
      readonly message: string;
    }
  /** Every available model has answered this request: the page may send the next camera frame. */
  | { readonly type: 'done'; readonly requestId: number };
