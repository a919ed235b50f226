// The datasets `imgcls train` reads, shared by training from scratch and transfer learning.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { accuracy, classificationReport, confusionMatrix, formatReportText } from '@imgcls/metrics';
import {
  decodeImage,
  ImgclsError,
  type PreprocessPreset,
  predictWithViews,
  TEST_TIME_AUGMENTATIONS,
  type TestTimeAugmentation,
} from '@imgcls/preprocess';
import {
  type Augmentation,
  type ImageFolder,
  type ImageSet,
  imageFolderData,
  imageSetData,
  isCifar10BinaryArchive,
  loadCifar10,
  readCifar10Archive,
  readImageArchive,
  scanImageFolder,
  type TrainingData,
  type TrainingEvent,
} from '@imgcls/train';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { UsageError } from './errors';
import { downloadOptions } from './model-store';
import type { Terminal } from './terminal';

export function number(value: string, flag: string, min: number, max: number): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max)
    throw new UsageError(`${flag} must be a number from ${min} to ${max}, got "${value}"`);
  return parsed;
}

/** A dataset ready to train on: the training split, and the test split when the source has one. */
export interface Dataset {
  readonly kind: 'cifar10' | 'cifar10-binary' | 'image-archive' | 'image-folder';
  readonly classes: readonly string[];
  /** Input height and width of the model. */
  readonly size: readonly [number, number];
  /** Training data over the given example indices; `count` examples in all. */
  readonly count: number;
  /** The class of each training example. */
  readonly labels: ArrayLike<number>;
  readonly subset: (
    indices: readonly number[],
    preset: PreprocessPreset,
    augmentation?: Augmentation,
  ) => TrainingData;
  /** The test split as data (over the given indices, default all), when there is one. */
  readonly test?: (preset: PreprocessPreset, indices?: readonly number[]) => TrainingData;
  /** The class of each test example. */
  readonly testLabels?: ArrayLike<number>;
}

function inMemory(kind: Dataset['kind'], set: ImageSet, test?: ImageSet): Dataset {
  const all = (count: number) => Array.from({ length: count }, (_, index) => index);
  return {
    kind,
    classes: set.classes,
    size: [set.height, set.width],
    count: set.count,
    labels: set.labels,
    subset: (indices, preset, augmentation) => imageSetData(set, indices, preset, augmentation),
    ...(test
      ? {
          test: (preset: PreprocessPreset, indices?: readonly number[]) =>
            imageSetData(test, indices ?? all(test.count), preset),
          testLabels: test.labels,
        }
      : {}),
  };
}

async function onDisk(
  folder: ImageFolder,
  test: ImageFolder | undefined,
  imageSize?: number,
): Promise<Dataset> {
  const first = imageSize ? undefined : await decodeImage(folder.files[0] as string);
  const all = (count: number) => Array.from({ length: count }, (_, index) => index);
  return {
    kind: 'image-folder',
    classes: folder.classes,
    size: imageSize ? [imageSize, imageSize] : [first?.height ?? 0, first?.width ?? 0],
    count: folder.count,
    labels: folder.labels,
    subset: (indices, preset, augmentation) =>
      imageFolderData(folder, indices, preset, augmentation ? { augmentation } : {}),
    ...(test
      ? {
          test: (preset: PreprocessPreset, indices?: readonly number[]) =>
            imageFolderData(test, indices ?? all(test.count), preset),
          testLabels: test.labels,
        }
      : {}),
  };
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
}

/** Reads what --data names: `cifar10`, an image folder, or a tar(.gz) of either kind. */
export async function openDataset(
  flags: { readonly data: string; readonly imageSize?: string },
  terminal: Terminal,
): Promise<Dataset> {
  const imageSize = flags.imageSize ? number(flags.imageSize, '--image-size', 8, 1024) : undefined;
  const isFolder = flags.data !== 'cifar10' && (await isDirectory(flags.data));
  if (imageSize !== undefined && !isFolder)
    throw new UsageError(
      '--image-size applies to image folders only',
      "CIFAR-10 and archives train at their images' own size: drop --image-size",
    );
  if (flags.data === 'cifar10') {
    const downloads = downloadOptions();
    const cifar = await loadCifar10({
      ...downloads,
      onProgress: (loaded, total) =>
        terminal.progress(
          total ? loaded / total : 0,
          `downloading CIFAR-10: ${(loaded / 1e6).toFixed(0)}${total ? ` of ${(total / 1e6).toFixed(0)}` : ''} MB`,
        ),
    }).catch((error: unknown) => {
      if (ImgclsError.isInstance(error, 'OFFLINE'))
        throw new UsageError(
          `CIFAR-10 is not in the cache (${downloads.cacheDir}) and --offline forbids downloading it`,
          'run once without --offline to download cifar-10-binary.tar.gz (170 MB), or pass a local copy: --data path/to/cifar-10-binary.tar.gz',
        );
      throw error;
    });
    terminal.endProgress();
    return inMemory('cifar10', cifar.train, cifar.test);
  }
  if (isFolder) {
    const split = await isDirectory(join(flags.data, 'train'));
    const folder = await scanImageFolder(flags.data, split ? { split: 'train' } : {});
    if (folder.ignored.length > 0)
      terminal.err(
        terminal.style(
          'yellow',
          `ignored ${folder.ignored.length} files that are not images, e.g. ${folder.ignored[0]}`,
        ),
      );
    const test =
      split && (await isDirectory(join(flags.data, 'test')))
        ? await scanImageFolder(flags.data, { split: 'test', classes: folder.classes })
        : undefined;
    return onDisk(folder, test, imageSize);
  }
  const exists = await stat(flags.data).then(
    () => true,
    () => false,
  );
  if (!exists)
    throw new UsageError(
      `--data ${flags.data}: no such file or folder`,
      'pass cifar10, an image folder, or a .tar/.tar.gz archive',
    );
  if (await isCifar10BinaryArchive(flags.data)) {
    const cifar = await readCifar10Archive(flags.data);
    return inMemory('cifar10-binary', cifar.train, cifar.test);
  }
  const trainSet = await readImageArchive(flags.data, 'train');
  const testSet = await readImageArchive(flags.data, 'test', trainSet.classes).catch(
    () => undefined,
  );
  return inMemory('image-archive', trainSet, testSet);
}

/** Predicted and true classes over a dataset, batch by batch (streaming datasets load as they go). */
export async function predictAll(
  model: LayersModel,
  data: TrainingData,
  views?: TestTimeAugmentation,
): Promise<{ truth: number[]; predicted: number[] }> {
  const predict = (images: tf.Tensor4D) => model.predict(images) as tf.Tensor;
  const truth: number[] = [];
  const predicted: number[] = [];
  for (let start = 0; start < data.size; start += 256) {
    const indices = Array.from(
      { length: Math.min(256, data.size - start) },
      (_, offset) => start + offset,
    );
    await data.load?.(indices);
    const { images, labels } = data.batch(indices);
    const guesses = tf.tidy(() =>
      tf.argMax(views ? predictWithViews(images, views, predict) : predict(images), -1),
    );
    predicted.push(...(guesses.dataSync() as Int32Array));
    truth.push(...(labels.dataSync() as Int32Array));
    tf.dispose([images, labels, guesses]);
  }
  return { truth, predicted };
}

/**
 * Writes an epoch's line into history.jsonl in place of the lines of that epoch and later ones: an epoch
 * redone after a kill (its line written, its checkpoint not) and a new run in a folder an earlier run used
 * leave no stale lines. Synchronous, once per epoch, so lines cannot interleave; written whole, then renamed.
 */
function recordEpoch(file: string, line: { readonly epoch: number }): void {
  const earlier = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((text) => text.trim() !== '' && epochOf(text) < line.epoch)
    : [];
  const next = `${file}.partial`;
  writeFileSync(next, [...earlier, JSON.stringify(line)].map((text) => `${text}\n`).join(''));
  renameSync(next, file);
}

/** The epoch a history line is for; a line that is not one (cut short by a crash) reads as none. */
function epochOf(text: string): number {
  try {
    const { epoch } = JSON.parse(text) as { epoch?: unknown };
    return typeof epoch === 'number' ? epoch : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** How often training without a terminal prints a progress line. */
const PROGRESS_LOG_MS = 60_000;

/**
 * The training events a user sees: a progress line per step, a line per epoch (also written to the
 * model folder's history.jsonl with the time it ended, so the curves survive interruptions and resumes),
 * a plain progress line a minute when stderr is no terminal, and resumptions.
 * `phase` names the stage when a run has several (transfer learning's head, then fine-tuning), and
 * `epochOffset` numbers its epochs after the earlier stages' in the history.
 */
export function reportTraining(
  terminal: Terminal,
  options: {
    readonly epochs: number;
    readonly historyFile: string;
    readonly checkpointDir?: string;
    readonly phase?: string;
    readonly epochOffset?: number;
  },
): (event: TrainingEvent) => void {
  const prefix = options.phase ? `${options.phase} ` : '';
  // Without a terminal (a log file, CI) the progress bar is not drawn: a plain line a minute instead.
  let lastLogged = Date.now();
  return (event) => {
    if (event.type === 'step') {
      const label = `${prefix}step ${event.step}/${event.totalSteps} loss ${event.loss.toFixed(3)} accuracy ${(event.accuracy * 100).toFixed(0)}% gradient norm ${event.gradientNorm.toPrecision(3)} ${event.imagesPerSecond.toFixed(0)} img/s ETA ${Math.round(event.etaSeconds / 60)} min`;
      terminal.progress(event.step / event.totalSteps, label);
      if (!terminal.interactive && !terminal.quiet && Date.now() - lastLogged >= PROGRESS_LOG_MS) {
        lastLogged = Date.now();
        terminal.err(label);
      }
    } else if (event.type === 'epoch') {
      const line = {
        epoch: (options.epochOffset ?? 0) + event.epoch + 1,
        loss: event.loss,
        ...(event.validation
          ? {
              validationAccuracy: event.validation.accuracy,
              validationLoss: event.validation.loss,
            }
          : {}),
        // How long the epoch took, over every process that ran a part of it: summed, the training time
        // to each accuracy.
        seconds: Math.round(event.seconds * 10) / 10,
        endedAt: new Date().toISOString(),
      };
      recordEpoch(options.historyFile, line);
      const validationText = event.validation
        ? `, validation accuracy ${(event.validation.accuracy * 100).toFixed(2)}%`
        : '';
      terminal.err(
        `${prefix}epoch ${event.epoch + 1}/${options.epochs}: loss ${event.loss.toFixed(4)}${validationText}`,
      );
    } else if (event.type === 'resumed') {
      terminal.err(
        `resumed from ${options.checkpointDir ?? 'the checkpoint'} at step ${event.step} (epoch ${event.epoch + 1})`,
      );
    }
  };
}

/**
 * Tests a trained model once on the test split, as it will be served (averaging `views` when given):
 * prints the classification report, writes the confusion matrix as `test-confusion.json` in the model
 * folder (read by `imgcls models card`), returns the accuracy, and with `views` also the accuracy of
 * one view per image.
 */
export async function testModel(
  model: LayersModel,
  data: TrainingData,
  classes: readonly string[],
  directory: string,
  terminal: Terminal,
  views?: TestTimeAugmentation,
): Promise<{ accuracy: number; singleViewAccuracy?: number }> {
  const { truth, predicted } = await predictAll(model, data, views);
  terminal.out(formatReportText(classificationReport(truth, predicted, { labels: [...classes] })));
  await writeFile(
    join(directory, 'test-confusion.json'),
    JSON.stringify(Array.from(confusionMatrix(truth, predicted, classes.length).counts)),
  );
  if (!views) return { accuracy: accuracy(truth, predicted) };
  const single = await predictAll(model, data);
  return {
    accuracy: accuracy(truth, predicted),
    singleViewAccuracy: accuracy(single.truth, single.predicted),
  };
}

/** The --tta mode. @throws UsageError naming the modes. */
export function testTimeAugmentationOf(value: string): TestTimeAugmentation | 'none' {
  if (value === 'none' || TEST_TIME_AUGMENTATIONS.includes(value as TestTimeAugmentation))
    return value as TestTimeAugmentation | 'none';
  throw new UsageError(
    `unknown --tta "${value}"`,
    `choose none, ${TEST_TIME_AUGMENTATIONS.join(' or ')}`,
  );
}
