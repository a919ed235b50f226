/**
 * The models the demo shows side by side. Each panel takes the first registry id that loads: the
 * CIFAR-10 panel prefers airbench, then the ResNet-9, then the prototype's architecture trained by imgcls.
 * `whenUnavailable` tells a user what to do when none of them loads.
 */
export const DEMO_MODELS = [
  {
    id: 'mobilenet-v2',
    title: 'MobileNetV2',
    subtitle: 'ImageNet, 1000 classes',
    candidates: ['mobilenet-v2'],
    whenUnavailable: {
      text: 'The hosted model cannot be reached (are you offline?). Import a local copy once, then rebuild the app:',
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
      text: 'No CIFAR-10 model is in models/ yet. Train one, write its card, then rebuild the app:',
      command:
        'imgcls train --data cifar10-jpg.tar.gz --arch airbench --epochs 20 --batch-size 256 --lr 0.375 --optimizer sgd --momentum 0.85 --weight-decay 0.0089 --bias-lr-scale 64 --schedule triangular --augment --crop-padding 2 --alternate-flip --lookahead --clip-norm 1000 --label-smoothing 0.2 --tta flip-translate',
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
