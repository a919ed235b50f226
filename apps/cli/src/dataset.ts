import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabelledBatch } from '@imgcls/metrics';
import { type DecodedImage, decodeImage } from '@imgcls/preprocess';
import { epochOrder, readArchiveSplit, scanImageFolder } from '@imgcls/train';
import { UsageError } from './errors';

/** One labelled image of a dataset, read lazily: decoding happens batch by batch. */
interface Example {
  readonly id: string;
  readonly label: number;
  readonly bytes: () => Promise<Uint8Array>;
}

/** A labelled image dataset opened for evaluation: its classes and fresh passes over its images. */
export interface LabelledImages {
  /** Class names by label index: the sorted class folder names. */
  readonly classes: readonly string[];
  /** Images in the evaluation (after `limit`). */
  readonly count: number;
  /** Images the split holds before `limit`. */
  readonly total: number;
  /** What was read, for reports: the path, the split and how the subset was drawn. */
  readonly description: string;
  /** A fresh pass over the same images in the same order, decoded `batchSize` at a time. */
  batches(batchSize: number): AsyncIterable<LabelledBatch<DecodedImage[]>>;
}

/** Options of {@link openLabelledImages}. */
export interface OpenOptions {
  /** Split folder inside the archive or folder (`test`); a folder without it is read as the split itself. */
  readonly split: string;
  /** Evaluate a seeded stratified subset of this many images instead of all. */
  readonly limit?: number;
  /** Seed of the subset. */
  readonly seed: number;
}

const isArchive = (path: string) => /\.(tar|tar\.gz|tgz)$/i.test(path);

/** The examples of a split and its classes (sorted folder names). */
interface Split {
  readonly classes: readonly string[];
  readonly examples: readonly Example[];
}

async function archiveSplit(path: string, split: string): Promise<Split> {
  const found = await readArchiveSplit(path, split);
  const classes = [...new Set(found.map((entry) => entry.className))].sort();
  const examples = found.map((entry) => ({
    id: entry.id,
    label: classes.indexOf(entry.className),
    bytes: async () => entry.data,
  }));
  return { classes, examples };
}

async function folderSplit(root: string, split: string): Promise<Split> {
  const hasSplit = (await stat(join(root, split)).catch(() => undefined))?.isDirectory();
  const folder = await scanImageFolder(root, hasSplit ? { split } : {});
  const examples = folder.files.map((path, index) => ({
    id: path,
    label: folder.labels[index] as number,
    bytes: async () => new Uint8Array(await readFile(path)),
  }));
  return { classes: folder.classes, examples };
}

/**
 * A seeded stratified subset: classes take turns, each drawing its images in a seeded random order
 * (`epochOrder` of @imgcls/train), so every class contributes the same number of images (±1) and the
 * same seed always picks the same images. Returned in dataset order.
 */
export function stratifiedSubset(labels: readonly number[], limit: number, seed: number): number[] {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, index) => {
    const members = byClass.get(label) ?? [];
    members.push(index);
    byClass.set(label, members);
  });
  const queues = [...byClass.entries()]
    .sort(([a], [b]) => a - b)
    .map(([label, indices]) =>
      Array.from(epochOrder(indices.length, seed, label), (k) => indices[k] as number),
    );
  const picked: number[] = [];
  for (let round = 0; picked.length < Math.min(limit, labels.length); round++)
    for (const queue of queues)
      if (round < queue.length && picked.length < limit) picked.push(queue[round] as number);
  return picked.sort((a, b) => a - b);
}

/**
 * Opens an image-folder dataset for evaluation: a tar(.gz) archive or a folder with
 * `<split>/<class>/<image>` entries (the CIFAR-10 JPEG archive, say), or a folder of `<class>/<image>`.
 *
 * @throws UsageError when nothing is there or no labelled images are found.
 */
export async function openLabelledImages(
  path: string,
  options: OpenOptions,
): Promise<LabelledImages> {
  const stats = await stat(path).catch(() => undefined);
  if (!stats)
    throw new UsageError(
      `no dataset at ${path}`,
      'pass --data a tar(.gz) archive or a folder of <split>/<class>/<image> files',
    );
  const split = stats.isDirectory()
    ? await folderSplit(path, options.split)
    : isArchive(path)
      ? await archiveSplit(path, options.split)
      : undefined;
  if (!split)
    throw new UsageError(
      `${path} is neither a folder nor a .tar/.tar.gz/.tgz archive`,
      'pass --data an image-folder archive or folder',
    );
  const { classes, examples: all } = split;
  if (all.length === 0)
    throw new UsageError(
      `${path} holds no images under ${options.split}/<class>/ or <class>/`,
      'check --data and --split (class names are the folder names)',
    );
  const chosen =
    options.limit !== undefined && options.limit < all.length
      ? stratifiedSubset(
          all.map((example) => example.label),
          options.limit,
          options.seed,
        ).map((index) => all[index] as Example)
      : all;
  const subset =
    chosen.length < all.length
      ? `, a stratified subset of ${chosen.length} of its ${all.length} images (seed ${options.seed})`
      : `, all ${all.length} images`;
  return {
    classes,
    count: chosen.length,
    total: all.length,
    description: `${path}, split "${options.split}"${subset}`,
    async *batches(batchSize: number) {
      for (let start = 0; start < chosen.length; start += batchSize) {
        const examples = chosen.slice(start, start + batchSize);
        const inputs = await Promise.all(
          examples.map(async (example) => decodeImage(await example.bytes())),
        );
        yield {
          inputs,
          labels: examples.map((example) => example.label),
          ids: examples.map((example) => example.id),
        };
      }
    },
  };
}
