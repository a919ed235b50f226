import { CIFAR10_LABELS } from '@imgcls/models';
import { type FetchToCacheOptions, fetchToCache } from '@imgcls/models/node';
import { ImgclsError } from '@imgcls/preprocess/errors';
import { DatasetDownloadError, DatasetFormatError } from '../errors';
import { CIFAR_SIZE, type CifarBatch, parseCifarBinary } from './cifar10-binary';
import type { ImageSet } from './image-archive';
import { readTar } from './tar';

/** The official CIFAR-10 binary archive (Krizhevsky 2009) and the MD5 its homepage publishes. */
export const CIFAR10_BINARY_ARCHIVE = {
  url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
} as const;

/** Both splits of CIFAR-10: 50,000 training and 10,000 test images in the official archive. */
export interface Cifar10 {
  readonly train: ImageSet;
  readonly test: ImageSet;
}

const TRAIN_FILES = [1, 2, 3, 4, 5].map((index) => `data_batch_${index}.bin`);
const TEST_FILE = 'test_batch.bin';

function joinBatches(batches: readonly CifarBatch[], classes: readonly string[]): ImageSet {
  const count = batches.reduce((sum, batch) => sum + batch.count, 0);
  const pixels = new Uint8Array(count * CIFAR_SIZE * CIFAR_SIZE * 3);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const batch of batches) {
    pixels.set(batch.images, at * CIFAR_SIZE * CIFAR_SIZE * 3);
    labels.set(batch.labels, at);
    at += batch.count;
  }
  return { pixels, labels, count, height: CIFAR_SIZE, width: CIFAR_SIZE, classes };
}

/**
 * Reads the official CIFAR-10 binary archive (`cifar-10-binary.tar.gz`, or the same files as a plain
 * tar) in one streaming pass: `data_batch_1.bin` … `data_batch_5.bin` become the training split in that
 * order and `test_batch.bin` the test split, as the {@link ImageSet}s image-folder archives give. Class
 * names come from `batches.meta.txt` when it lists ten. Memory: the decoded splits (184 MB for the full
 * dataset) plus one 30 MB batch file at a time.
 *
 * @throws DatasetFormatError when the archive is truncated or corrupt, a batch file is malformed, or one
 *   of the six batch files is missing.
 */
export async function readCifar10Archive(path: string): Promise<Cifar10> {
  const found = new Map<string, CifarBatch>();
  let classes: readonly string[] = CIFAR10_LABELS;
  for await (const entry of readTar(path)) {
    const name = entry.name.split('/').at(-1) ?? '';
    if (name === 'batches.meta.txt') {
      const names = new TextDecoder()
        .decode(entry.data)
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.length > 0);
      if (names.length === 10) classes = names;
    } else if (name === TEST_FILE || TRAIN_FILES.includes(name)) {
      found.set(name, parseCifarBinary(entry.data, name));
    }
  }
  const missing = [...TRAIN_FILES, TEST_FILE].filter((name) => !found.has(name));
  if (missing.length > 0) {
    throw new DatasetFormatError(
      `${path} lacks ${missing.join(', ')}: it is not the CIFAR-10 binary archive (cifar-10-binary.tar.gz), or it is incomplete.`,
    );
  }
  return {
    train: joinBatches(
      TRAIN_FILES.map((name) => found.get(name) as CifarBatch),
      classes,
    ),
    test: joinBatches([found.get(TEST_FILE) as CifarBatch], classes),
  };
}

/** Options of {@link loadCifar10}: those of `fetchToCache` (cache directory, offline, progress…). */
export interface LoadCifar10Options extends Omit<FetchToCacheOptions, 'md5' | 'sha256'> {
  /** Where to download from and the archive's MD5; default {@link CIFAR10_BINARY_ARCHIVE} (mirrors, tests). */
  readonly source?: { readonly url: string; readonly md5: string };
}

/**
 * CIFAR-10 from its official source: downloads `cifar-10-binary.tar.gz` (170 MB) once into the cache
 * (`$IMGCLS_CACHE_DIR` or `~/.cache/imgcls`), checking its MD5, then reads both splits from the cached
 * archive. Later calls, and `offline: true`, use the cache without the network.
 *
 * @throws DatasetDownloadError (network or HTTP failure, with the original `DownloadError` as `cause`),
 *   ChecksumMismatchError (nothing is cached), OfflineError (offline and not cached), DatasetFormatError
 *   (a cached archive that verifies but does not parse).
 */
export async function loadCifar10(
  options: LoadCifar10Options = {},
): Promise<Cifar10 & { readonly archivePath: string }> {
  const { source = CIFAR10_BINARY_ARCHIVE, ...fetchOptions } = options;
  const archivePath = await fetchToCache(source.url, { ...fetchOptions, md5: source.md5 }).catch(
    (error: unknown) => {
      if (!ImgclsError.isInstance(error, 'DOWNLOAD_FAILED')) throw error;
      throw new DatasetDownloadError(
        source.url,
        `${error.message}. Check the network and try again, or download ${source.url} yourself and read it with readCifar10Archive(path) (imgcls train --data path/to/cifar-10-binary.tar.gz).`,
        { cause: error },
      );
    },
  );
  return { ...(await readCifar10Archive(archivePath)), archivePath };
}

/**
 * Whether a tar(.gz) is laid out as the official CIFAR-10 binary archive (its files are under
 * `cifar-10-batches-bin/`), judged from its first file without reading the rest.
 *
 * @throws DatasetFormatError when the file is not a readable tar(.gz).
 */
export async function isCifar10BinaryArchive(path: string): Promise<boolean> {
  for await (const entry of readTar(path)) return entry.name.includes('cifar-10-batches-bin/');
  return false;
}
