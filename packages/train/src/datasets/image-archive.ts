import { decodeImage } from '@imgcls/preprocess';
import { DatasetFormatError } from '../errors';
import { readTar } from './tar';

/** Decoded images of one split, all of one size, with class indices. */
export interface ImageSet {
  /** `count` images of height × width × 3 bytes, row-major. */
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly classes: readonly string[];
}

/** One still-encoded image of an archive split: its path from the split on, its class folder, its bytes. */
export interface ArchiveImage {
  /** `<split>/<class>/<file>`: unique within the archive. */
  readonly id: string;
  readonly className: string;
  readonly data: Uint8Array;
}

/**
 * The files of one split of a tar(.gz) image-folder dataset (entries `<root>/<split>/<class>/<file>`), in
 * archive order and not decoded: for readers that decode later, or elsewhere.
 */
export async function readArchiveSplit(path: string, split: string): Promise<ArchiveImage[]> {
  const images: ArchiveImage[] = [];
  for await (const entry of readTar(path)) {
    const parts = entry.name.replace(/^\.\//, '').split('/');
    const splitIndex = parts.indexOf(split);
    if (splitIndex < 0 || parts.length !== splitIndex + 3) continue;
    images.push({
      id: parts.slice(splitIndex).join('/'),
      className: parts[splitIndex + 1] as string,
      data: entry.data,
    });
  }
  return images;
}

/**
 * Reads one split of an image-folder dataset packed as a tar(.gz) — entries `<root>/<split>/<class>/<file>`,
 * such as the CIFAR-10 JPEG archive — decoding every image. Classes are the sorted folder names unless
 * `classes` fixes their order. All images must have the same size.
 *
 * @throws DatasetFormatError when the split is empty or sizes differ; InvalidImageError for a bad image.
 */
export async function readImageArchive(
  path: string,
  split: string,
  classes?: readonly string[],
): Promise<ImageSet> {
  const entries = await readArchiveSplit(path, split);
  if (entries.length === 0)
    throw new DatasetFormatError(`${path} holds no images under a "${split}/<class>/" folder.`);
  const classNames = classes ?? [...new Set(entries.map((entry) => entry.className))].sort();
  const first = await decodeImage(entries[0]?.data as Uint8Array);
  const { width, height } = first;
  const stride = width * height * 3;
  const pixels = new Uint8Array(entries.length * stride);
  const labels = new Uint8Array(entries.length);
  for (const [index, entry] of entries.entries()) {
    const image = index === 0 ? first : await decodeImage(entry.data);
    if (image.width !== width || image.height !== height) {
      throw new DatasetFormatError(
        `${path}: image ${index} is ${image.width}x${image.height}, the first was ${width}x${height}.`,
      );
    }
    const label = classNames.indexOf(entry.className);
    if (label < 0)
      throw new DatasetFormatError(
        `${path}: class folder "${entry.className}" is not among ${classNames.join(', ')}.`,
      );
    pixels.set(image.data, index * stride);
    labels[index] = label;
  }
  return { pixels, labels, count: entries.length, height, width, classes: classNames };
}
