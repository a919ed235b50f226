export {
  CIFAR_RECORD_BYTES,
  CIFAR_SIZE,
  type CifarBatch,
  parseCifarBinary,
} from './datasets/cifar10-binary';
export { readTar, type TarEntry } from './datasets/tar';
export { DatasetFormatError } from './errors';
export { constant, cosine, oneCycle, type Schedule, stepDecay, warmup } from './schedules';
