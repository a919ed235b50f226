import { PRESETS } from '@imgcls/preprocess';
import { UnknownModelError } from './errors';
import { IMAGENET_LABELS } from './labels/imagenet';
import type { ModelMetadata } from './metadata';

/** Where a registered model's files are: a hosted model.json, or a folder on disk. */
export type ModelSource =
  | { readonly kind: 'url'; readonly url: string; readonly sha256?: string }
  /** A folder with model.json + metadata.json, relative to `IMGCLS_MODELS_DIR` (default: ./models). */
  | { readonly kind: 'directory'; readonly directory: string };

/** A model known by id: where to get it and, for hosted models without metadata.json, its metadata. */
export interface RegisteredModel {
  readonly id: string;
  readonly description: string;
  readonly source: ModelSource;
  /** Metadata for sources that do not publish their own (the TF.js team's hosted MobileNet). */
  readonly metadata?: ModelMetadata;
}

const BUILT_IN: readonly RegisteredModel[] = [
  {
    id: 'mobilenet-v2',
    description:
      'MobileNetV2 1.0/224 pretrained on ImageNet (1000 classes), the TF.js team’s hosted graph model.',
    // Its SHA-256 could not be measured from this project's network (no access to Google storage);
    // it is pinned on first download by the cache instead of here.
    source: {
      kind: 'url',
      url: 'https://storage.googleapis.com/tfjs-models/savedmodel/mobilenet_v2_1.0_224/model.json',
    },
    metadata: {
      schemaVersion: 1,
      id: 'mobilenet-v2',
      name: 'MobileNetV2 1.0 224 (ImageNet)',
      version: '1',
      format: 'graph-model',
      architecture: 'mobilenetv2',
      labels: IMAGENET_LABELS,
      backgroundClass: true,
      output: 'logits',
      preset: PRESETS.mobilenetV2,
      license: 'Apache-2.0',
      source:
        'https://storage.googleapis.com/tfjs-models/savedmodel/mobilenet_v2_1.0_224/model.json',
    },
  },
  {
    id: 'cifar10',
    description:
      'airbench94’s network trained from scratch on CIFAR-10 by @imgcls/train, served with flip-translate test-time augmentation (models/cifar10-airbench).',
    source: { kind: 'directory', directory: 'cifar10-airbench' },
  },
  {
    id: 'cifar10-resnet9',
    description:
      'A half-width ResNet-9 trained from scratch on CIFAR-10 by @imgcls/train (models/cifar10-resnet9).',
    source: { kind: 'directory', directory: 'cifar10-resnet9' },
  },
  {
    id: 'cifar10-seedcnn',
    description:
      'The original prototype’s 4-block CNN, trained on CIFAR-10 with our recipe (models/cifar10-seedcnn).',
    source: { kind: 'directory', directory: 'cifar10-seedcnn' },
  },
];

const registry = new Map<string, RegisteredModel>(BUILT_IN.map((entry) => [entry.id, entry]));

/** Adds or replaces a registry entry, e.g. a company's own hosted model. */
export function registerModel(entry: RegisteredModel): void {
  registry.set(entry.id, entry);
}

/** Every registered model, built-in ones first. */
export function registeredModels(): RegisteredModel[] {
  return [...registry.values()];
}

/**
 * The registry entry for an id.
 *
 * @throws UnknownModelError listing the registered ids.
 */
export function resolveModel(id: string): RegisteredModel {
  const entry = registry.get(id);
  if (!entry) throw new UnknownModelError(id, [...registry.keys()]);
  return entry;
}
