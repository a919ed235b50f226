export * from './architectures/index';
export {
  ClassMismatchError,
  InvalidMetadataError,
  LabelMismatchError,
  ModelLoadError,
  ModelNotFoundError,
  ModelPackageVersionError,
  QuantizationError,
  UnknownModelError,
} from './errors';
export * from './inference/index';
export {
  BROWSER_CACHE_NAME,
  type BrowserCachedModel,
  type BrowserCachedModelOptions,
  type BrowserCacheOptions,
  browserCachedModel,
  fetchToBrowserCache,
  hasBrowserCache,
} from './io/browser-cache';
export { alignLabels, type LabelAlignment } from './labels/align';
export { CIFAR10_LABELS } from './labels/cifar10';
export { IMAGENET_LABELS } from './labels/imagenet';
export { IMAGENET_TO_CIFAR10, imagenetToCifar10Indices } from './labels/imagenet-to-cifar10';
export {
  checkLabelCount,
  METADATA_FILE,
  type ModelMetadata,
  parseModelMetadata,
  type QuantizationRecord,
} from './metadata';
export * from './quantization/index';
export {
  type ModelSource,
  modelFolderName,
  type RegisteredModel,
  registeredModels,
  registerModel,
  resolveModel,
} from './registry';
export { type FilePin, type FilePins, MODEL_PACKAGES, type ModelPackagePin } from './store/pins';
export {
  CDN_LAYOUTS,
  DEFAULT_MODEL_SETTINGS,
  type ModelStoreOptions,
  type ModelStoreSettings,
  modelSettings,
  packageFileUrl,
} from './store/settings';
export type {
  ModelLocation,
  ModelReference,
  ModelSourceKind,
  ModelStore,
  ResolvedModel,
  ResolveOptions,
} from './store/store';
export * from './tflite/index';
