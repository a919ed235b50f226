export {
  type CachedModel,
  type CachedModelOptions,
  cachedModel,
  directoryHandler,
  readMetadata,
  writeAtomically,
  writeMetadata,
} from './directory';
export { ChecksumMismatchError, DownloadError, OfflineError } from './errors';
export {
  cachePathFor,
  defaultCacheDir,
  type FetchToCacheOptions,
  fetchToCache,
  hashFile,
} from './fetch-to-cache';
export { modelDirectory, readBytes } from './local';
export {
  type ModelSize,
  modelSizeOnDisk,
  type SavedQuantizedModel,
  saveQuantizedModel,
} from './quantize';
export {
  type ModelCheck,
  type ModelVerification,
  verifyModelDirectory,
  weightsSha256,
} from './verify';
