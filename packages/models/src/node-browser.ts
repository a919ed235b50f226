import { ModelLoadError } from './errors';
import type * as node from './node';

// Browser stand-in for `@imgcls/models/node` (chosen by the exports map's `browser` condition): the same
// names, so shared code type-checks and bundles, each failing clearly if a browser ever calls it.
const nodeOnly = (name: string) => (): never => {
  throw new ModelLoadError(
    `${name} reads files or the download cache and is only available in Node.js.`,
  );
};

export * from './index';
export const cachedModel: typeof node.cachedModel = nodeOnly('cachedModel');
export const directoryHandler: typeof node.directoryHandler = nodeOnly('directoryHandler');
export const readMetadata: typeof node.readMetadata = nodeOnly('readMetadata');
export const writeMetadata: typeof node.writeMetadata = nodeOnly('writeMetadata');
export const writeAtomically: typeof node.writeAtomically = nodeOnly('writeAtomically');
export const fetchToCache: typeof node.fetchToCache = nodeOnly('fetchToCache');
export const hashFile: typeof node.hashFile = nodeOnly('hashFile');
export const cachePathFor: typeof node.cachePathFor = nodeOnly('cachePathFor');
export const defaultCacheDir: typeof node.defaultCacheDir = nodeOnly('defaultCacheDir');
export const modelDirectory: typeof node.modelDirectory = nodeOnly('modelDirectory');
export const readBytes: typeof node.readBytes = nodeOnly('readBytes');
export const verifyModelDirectory: typeof node.verifyModelDirectory =
  nodeOnly('verifyModelDirectory');
export const weightsSha256: typeof node.weightsSha256 = nodeOnly('weightsSha256');
export const modelSizeOnDisk: typeof node.modelSizeOnDisk = nodeOnly('modelSizeOnDisk');
export const saveQuantizedModel: typeof node.saveQuantizedModel = nodeOnly('saveQuantizedModel');
export { ChecksumMismatchError, DownloadError, OfflineError } from './io/errors';
