export {
  CheckpointError,
  type CheckpointSettings,
  loadCheckpoint,
  saveCheckpoint,
  type TrainingPosition,
} from './checkpoint';
export { clipByGlobalNorm, globalNorm } from './clip';
export type { Augmentation } from './datasets/batch';
export {
  CIFAR10_BINARY_ARCHIVE,
  type Cifar10,
  isCifar10BinaryArchive,
  type LoadCifar10Options,
  loadCifar10,
  readCifar10Archive,
} from './datasets/cifar10';
export {
  CIFAR_RECORD_BYTES,
  CIFAR_SIZE,
  type CifarBatch,
  parseCifarBinary,
} from './datasets/cifar10-binary';
export {
  type ArchiveImage,
  type ImageSet,
  readArchiveSplit,
  readImageArchive,
} from './datasets/image-archive';
export {
  IMAGE_EXTENSIONS,
  type ImageFolder,
  type ImageFolderDataOptions,
  imageFolderData,
  scanImageFolder,
} from './datasets/image-folder';
export { imageSetData, splitIndices } from './datasets/in-memory';
export { readTar, type TarEntry } from './datasets/tar';
export { DatasetDownloadError, DatasetFormatError, UnreadableImageError } from './errors';
export { Lookahead, type LookaheadOptions } from './lookahead';
export {
  evaluateData,
  evaluateDataset,
  NonFiniteGradientError,
  NonFiniteLossError,
  type TrainConfig,
  type TrainingBatch,
  type TrainingData,
  type TrainingEvent,
  type TrainingResult,
  train,
} from './loop';
export { AdamW, type AdamWOptions, type Optimizer, Sgd, type SgdOptions } from './optimizers';
export { epochOrder } from './order';
export {
  constant,
  cosine,
  oneCycle,
  type Schedule,
  stepDecay,
  triangular,
  warmup,
} from './schedules';
export {
  type FineTuneSplit,
  featureData,
  frozenFeatureData,
  splitAtLayer,
  type TransferModel,
  type TransferOptions,
  transferModel,
  unfreezeFrom,
} from './transfer';
export {
  type FitWhiteningOptions,
  fitWhitening,
  type PatchWhiteningOptions,
  patchWhitening,
} from './whitening';
