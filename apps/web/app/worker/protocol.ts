/**
 * The models the demo shows side by side. Each panel takes the first registry id that loads: the
 * CIFAR-10 panel prefers the ResNet-9 and falls back to the prototype's architecture trained by imgcls.
 */
export const DEMO_MODELS = [
  {
    id: 'mobilenet-v2',
    title: 'MobileNetV2 (ImageNet, 1000 classes)',
    candidates: ['mobilenet-v2'],
  },
  {
    id: 'cifar10',
    title: 'CIFAR-10 model (10 classes, trained by imgcls)',
    candidates: ['cifar10', 'cifar10-seedcnn'],
  },
] as const;

export type DemoModelId = (typeof DEMO_MODELS)[number]['id'];

/** Page → worker. */
export type WorkerRequest = {
  readonly type: 'classify';
  readonly requestId: number;
  readonly file: Blob;
};

/** Worker → page. */
export type WorkerMessage =
  | {
      readonly type: 'status';
      readonly model: DemoModelId;
      readonly state: 'loading' | 'ready';
      readonly backend?: string;
      /** The name of the model that loaded (the first candidate that worked). */
      readonly name?: string;
    }
  | { readonly type: 'unavailable'; readonly model: DemoModelId; readonly message: string }
  | {
      readonly type: 'result';
      readonly requestId: number;
      readonly model: DemoModelId;
      readonly predictions: ReadonlyArray<{ readonly label: string; readonly probability: number }>;
      readonly milliseconds: number;
    }
  | {
      readonly type: 'input-error';
      readonly requestId: number;
      readonly code: string;
      readonly message: string;
    };
