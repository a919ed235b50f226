import { PRESETS } from '@imgcls/preprocess/core';
import { UnknownModelError } from './errors';
import { IMAGENET_LABELS } from './labels/imagenet';
import type { ModelMetadata } from './metadata';
import { type ModelPackagePin, modelPackage } from './store/pins';

/**
 * Where a registered model's files are: a hosted model.json (its SHA-256 pinned when known), or an
 * exact version of an npm model package (every file pinned), installed or fetched from an npm CDN.
 */
export type ModelSource =
  | { readonly kind: 'url'; readonly url: string; readonly sha256?: string }
  | { readonly kind: 'package'; readonly package: ModelPackagePin };

/** A model known by id: where to get it and, for hosted models without metadata.json, its metadata. */
export interface RegisteredModel {
  readonly id: string;
  readonly description: string;
  readonly source: ModelSource;
  /** Metadata for sources that do not publish their own (the TF.js team's hosted MobileNet). */
  readonly metadata?: ModelMetadata;
}

/** The folder name a registered model has in a models folder: its package's folder, else its id. */
export function modelFolderName(entry: RegisteredModel): string {
  return entry.source.kind === 'package' ? entry.source.package.folder : entry.id;
}

const shipped = (folder: string): ModelSource => ({
  kind: 'package',
  package: modelPackage(folder),
});

const BUILT_IN: readonly RegisteredModel[] = [
  {
    id: 'mobilenet-v2',
    description:
      'MobileNetV2 1.0/224 pretrained on ImageNet (1000 classes), the TF.js team’s hosted graph model.',
    // Its SHA-256 cannot be measured from this project's network (no access to Google storage), so
    // unlike the model packages it is not pinned here.
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
      'airbench94’s network trained from scratch on CIFAR-10 by @imgcls/train, weights stored as float16 (the same accuracy at half the download), served with flip-translate test-time augmentation (@imgcls/model-cifar10-airbench-float16).',
    source: shipped('cifar10-airbench-float16'),
  },
  {
    id: 'cifar10-airbench',
    description:
      'The same airbench with its float32 weights as trained, for fine-tuning or export (@imgcls/model-cifar10-airbench).',
    source: shipped('cifar10-airbench'),
  },
  {
    id: 'cifar10-resnet9',
    description:
      'A half-width ResNet-9 trained from scratch on CIFAR-10 by @imgcls/train (@imgcls/model-cifar10-resnet9).',
    source: shipped('cifar10-resnet9'),
  },
  {
    id: 'cifar10-resnet9-float16',
    description:
      'The same ResNet-9 with its weights stored as float16: the same test accuracy at half the download (@imgcls/model-cifar10-resnet9-float16).',
    source: shipped('cifar10-resnet9-float16'),
  },
  {
    id: 'cifar10-seedcnn',
    description:
      'The original prototype’s 4-block CNN, trained on CIFAR-10 with our recipe (@imgcls/model-cifar10-seedcnn).',
    source: shipped('cifar10-seedcnn'),
  },
  {
    id: 'cifar10-seedcnn-uint8',
    description:
      'cifar10-seedcnn with its weights stored as uint8: a quarter of the size, the same test accuracy (@imgcls/model-cifar10-seedcnn-uint8).',
    source: shipped('cifar10-seedcnn-uint8'),
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
