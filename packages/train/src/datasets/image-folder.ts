import { open, readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import {
  decodeImage,
  fitToInput,
  ImgclsError,
  InvalidArgumentError,
  type PreprocessPreset,
  sniffFormat,
  validateAugmentOptions,
} from '@imgcls/preprocess';
import { DatasetFormatError, UnreadableImageError } from '../errors';
import type { TrainingBatch, TrainingData } from '../loop';
import { type Augmentation, augmentationSettings, pixelBatch } from './batch';

/** File extensions taken as images: every format `@imgcls/preprocess` decodes in Node. */
export const IMAGE_EXTENSIONS: readonly string[] = [
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.gif',
  '.bmp',
  '.tif',
  '.tiff',
  '.avif',
];

/** An image-folder dataset on disk, listed but not decoded: images are read per batch. */
export interface ImageFolder {
  /** The folder whose sub-folders are the classes. */
  readonly directory: string;
  /** Class names: the sub-folder names, sorted by code unit (the same on every machine and locale). */
  readonly classes: readonly string[];
  /** Image paths, by class then file name (both sorted), and the class index of each. */
  readonly files: readonly string[];
  readonly labels: Uint16Array;
  readonly count: number;
  /** Files left out because their extension is not an image's (README.txt, Thumbs.db…). */
  readonly ignored: readonly string[];
}

async function directories(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch((error: unknown) => {
    throw new DatasetFormatError(
      `Cannot read the dataset folder ${path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  });
  return entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
}

/** The first bytes of a file: enough to recognise an image format. */
async function head(path: string): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const bytes = new Uint8Array(32);
    const { bytesRead } = await file.read(bytes, 0, 32, 0);
    return bytes.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/**
 * Lists an image-folder dataset: `directory/<class>/<image>`, or `directory/<split>/<class>/<image>` with
 * `split` (such as `train` or `test`). Class names are the sorted sub-folder names unless `classes` fixes
 * them (use the training split's for the test split). Hidden entries are skipped; files whose extension
 * is not an image's are listed in `ignored`. Every image file's first bytes are checked, so empty files
 * and files that are not images fail here, before training, rather than hours into it.
 *
 * @throws DatasetFormatError when the folder or a class is missing or holds no images;
 *   UnreadableImageError listing every file that is empty or not an image.
 */
export async function scanImageFolder(
  root: string,
  options: { readonly split?: string; readonly classes?: readonly string[] } = {},
): Promise<ImageFolder> {
  const directory = options.split ? join(root, options.split) : root;
  const found = await directories(directory);
  const classes = options.classes ?? found;
  if (classes.length === 0)
    throw new DatasetFormatError(
      `${directory} has no class sub-folders: expected ${directory}/<class>/<image files>.`,
    );
  const unknown = found.filter((name) => !classes.includes(name));
  if (unknown.length > 0)
    throw new DatasetFormatError(
      `${directory} has class folders ${unknown.join(', ')} that are not among ${classes.join(', ')}.`,
    );
  const files: string[] = [];
  const labels: number[] = [];
  const ignored: string[] = [];
  for (const [label, name] of classes.entries()) {
    if (!found.includes(name)) continue;
    const entries = await readdir(join(directory, name), { withFileTypes: true });
    for (const entry of [...entries].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      const path = join(directory, name, entry.name);
      if (IMAGE_EXTENSIONS.includes(extname(entry.name).toLowerCase())) {
        files.push(path);
        labels.push(label);
      } else ignored.push(path);
    }
  }
  if (files.length === 0)
    throw new DatasetFormatError(
      `${directory} holds no image files (${IMAGE_EXTENSIONS.join(', ')}) in its class folders.`,
    );
  const bad: string[] = [];
  // A bounded number of files open at once: folders can hold hundreds of thousands of images.
  for (let start = 0; start < files.length; start += 64) {
    const heads = await Promise.all(files.slice(start, start + 64).map(head));
    heads.forEach((bytes, offset) => {
      if (!sniffFormat(bytes)) bad.push(files[start + offset] as string);
    });
  }
  if (bad.length > 0) throw new UnreadableImageError(bad, 'empty or not an image');
  return {
    directory,
    classes,
    files,
    labels: Uint16Array.from(labels),
    count: files.length,
    ignored,
  };
}

/** Options of {@link imageFolderData}. */
export interface ImageFolderDataOptions {
  readonly augmentation?: Augmentation;
  /**
   * Batches read ahead of the one being trained on (default 1). Decoded pixels held at most:
   * (prefetch + 1) batches × batch size × height × width × 3 × 4 bytes.
   */
  readonly prefetch?: number;
}

/**
 * A subset of an {@link ImageFolder} as streaming training data: each batch's images are decoded when the
 * loop loads it (through `@imgcls/preprocess`'s Node decoder, on libuv's thread pool, so the next batch
 * decodes while the current one trains), fitted to the preset's input size exactly as serving does, then
 * normalised and augmented like in-memory data. Only the batches being trained on and prefetched are held,
 * so memory stays bounded whatever the size of the dataset.
 *
 * @throws UnreadableImageError (from `load`) naming a file that cannot be decoded.
 */
export function imageFolderData(
  folder: ImageFolder,
  indices: readonly number[],
  preset: PreprocessPreset,
  options: ImageFolderDataOptions = {},
): TrainingData {
  const { augmentation } = options;
  if (augmentation) validateAugmentOptions(augmentation);
  const capacity = (options.prefetch ?? 1) + 1;
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new InvalidArgumentError(`prefetch must be a whole number ≥ 0, got ${options.prefetch}.`);
  const stride = preset.height * preset.width * 3;
  const pending = new Map<string, Promise<Float32Array>>();
  const ready = new Map<string, Float32Array>();

  const decode = async (position: number): Promise<Float32Array> => {
    const path = folder.files[indices[position] as number] as string;
    try {
      const image = await decodeImage(path);
      if (image.width === preset.width && image.height === preset.height)
        return Float32Array.from(image.data);
      const fitted = fitToInput(image, preset);
      const values = fitted.dataSync() as Float32Array;
      fitted.dispose();
      return values;
    } catch (error) {
      if (
        ImgclsError.isInstance(error, 'INVALID_IMAGE') ||
        ImgclsError.isInstance(error, 'IMAGE_TOO_LARGE')
      )
        throw new UnreadableImageError([path], (error as Error).message, { cause: error });
      throw error;
    }
  };

  return {
    size: indices.length,
    settings: { augmentation: augmentationSettings(augmentation) },
    load(batchIndices) {
      const key = batchIndices.join(',');
      const existing = pending.get(key);
      if (existing) return existing.then(() => undefined);
      const loading = Promise.all(batchIndices.map(decode)).then((images) => {
        const pixels = new Float32Array(batchIndices.length * stride);
        images.forEach((image, row) => {
          pixels.set(image, row * stride);
        });
        // Only keep it if it was not evicted meanwhile.
        if (pending.get(key) === loading) ready.set(key, pixels);
        return pixels;
      });
      pending.set(key, loading);
      // First in, first out: the oldest batches go, the bound holds.
      for (const oldest of pending.keys()) {
        if (pending.size <= capacity) break;
        pending.delete(oldest);
        ready.delete(oldest);
      }
      return loading.then(() => undefined);
    },
    batch(batchIndices, step, epoch): TrainingBatch {
      const pixels = ready.get(batchIndices.join(','));
      if (!pixels)
        throw new InvalidArgumentError(
          'This image-folder batch is not loaded: await data.load(indices) before data.batch(indices).',
        );
      return pixelBatch(
        pixels,
        batchIndices.map((position) => folder.labels[indices[position] as number] as number),
        [preset.height, preset.width],
        preset,
        folder.classes.length,
        augmentation,
        {
          ...(step !== undefined ? { step } : {}),
          first: batchIndices[0] ?? 0,
          indices: batchIndices,
          epoch: epoch ?? 0,
        },
      );
    },
  };
}
