import { appendFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { selectBackend } from '@imgcls/classifier';
import { accuracy, classificationReport, confusionMatrix, formatReportText } from '@imgcls/metrics';
import { CIFAR10_LABELS, type ModelMetadata, resNet9, seedCnn } from '@imgcls/models';
import { defaultCacheDir, directoryHandler, writeMetadata } from '@imgcls/models/node';
import { decodeImage, ImgclsError, PRESETS, type PreprocessPreset } from '@imgcls/preprocess';
import {
  AdamW,
  type Augmentation,
  constant,
  cosine,
  evaluateDataset,
  type ImageFolder,
  type ImageSet,
  imageFolderData,
  imageSetData,
  isCifar10BinaryArchive,
  loadCifar10,
  oneCycle,
  readCifar10Archive,
  readImageArchive,
  Sgd,
  scanImageFolder,
  splitIndices,
  type TrainingData,
  train,
} from '@imgcls/train';
import { registerWasmGradients } from '@imgcls/wasm-grad';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Command } from 'commander';
import { EXIT, UsageError } from '../errors';
import type { Terminal } from '../terminal';

interface TrainFlags {
  readonly data: string;
  readonly arch: string;
  readonly epochs: string;
  readonly batchSize: string;
  readonly lr: string;
  readonly optimizer: string;
  readonly schedule: string;
  readonly augment?: boolean;
  readonly cutout?: string;
  readonly jitter?: string;
  readonly mixup?: string;
  readonly cutmix?: string;
  readonly clipNorm: string;
  readonly imageSize?: string;
  readonly offline?: boolean;
  readonly labelSmoothing: string;
  readonly validationSplit: string;
  readonly seed: string;
  readonly out?: string;
}

const ARCHITECTURES = { seedcnn: seedCnn, resnet9: resNet9 } as const;

/** The default of --clip-norm: what every run clipped to before the flag existed. */
const DEFAULT_CLIP_NORM = '5';

function number(value: string, flag: string, min: number, max: number): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max)
    throw new UsageError(`${flag} must be a number from ${min} to ${max}, got "${value}"`);
  return parsed;
}

/** `--jitter 0.2` (brightness, contrast and saturation alike) or `--jitter 0.4,0.4,0.2`. */
function jitterOf(value: string): Pick<Augmentation, 'brightness' | 'contrast' | 'saturation'> {
  const parts = value.split(',').map((part) => number(part.trim(), '--jitter', 0, 0.99));
  if (parts.length !== 1 && parts.length !== 3)
    throw new UsageError(
      `--jitter takes one strength or three (brightness,contrast,saturation), got "${value}"`,
    );
  const [brightness, contrast, saturation] =
    parts.length === 1 ? [parts[0], parts[0], parts[0]] : parts;
  return {
    ...(brightness ? { brightness } : {}),
    ...(contrast ? { contrast } : {}),
    ...(saturation ? { saturation } : {}),
  };
}

/** The augmentation the flags ask for, or undefined for none. `--augment` alone keeps its old meaning. */
function augmentationOf(flags: TrainFlags, seed: number): Augmentation | undefined {
  const options: Augmentation = {
    ...(flags.augment ? { cropPadding: 4, horizontalFlip: true } : {}),
    ...(flags.cutout ? { cutout: number(flags.cutout, '--cutout', 1, 1024) } : {}),
    ...(flags.jitter ? jitterOf(flags.jitter) : {}),
    ...(flags.mixup ? { mixup: number(flags.mixup, '--mixup', 0.01, 100) } : {}),
    ...(flags.cutmix ? { cutmix: number(flags.cutmix, '--cutmix', 0.01, 100) } : {}),
  };
  if (options.cutout !== undefined && !Number.isInteger(options.cutout))
    throw new UsageError(`--cutout must be a whole number of pixels, got "${flags.cutout}"`);
  return Object.keys(options).length > 0 ? { ...options, seed } : undefined;
}

/** A dataset ready to train on: the training split, and the test split when the source has one. */
interface Dataset {
  readonly kind: 'cifar10' | 'cifar10-binary' | 'image-archive' | 'image-folder';
  readonly classes: readonly string[];
  /** Input height and width of the model. */
  readonly size: readonly [number, number];
  /** Training data over the given example indices; `count` examples in all. */
  readonly count: number;
  readonly subset: (
    indices: readonly number[],
    preset: PreprocessPreset,
    augmentation?: Augmentation,
  ) => TrainingData;
  /** The test split as data, when there is one. */
  readonly test?: (preset: PreprocessPreset) => TrainingData;
}

function inMemory(kind: Dataset['kind'], set: ImageSet, test?: ImageSet): Dataset {
  const all = (count: number) => Array.from({ length: count }, (_, index) => index);
  return {
    kind,
    classes: set.classes,
    size: [set.height, set.width],
    count: set.count,
    subset: (indices, preset, augmentation) => imageSetData(set, indices, preset, augmentation),
    ...(test
      ? { test: (preset: PreprocessPreset) => imageSetData(test, all(test.count), preset) }
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
    subset: (indices, preset, augmentation) =>
      imageFolderData(folder, indices, preset, augmentation ? { augmentation } : {}),
    ...(test
      ? { test: (preset: PreprocessPreset) => imageFolderData(test, all(test.count), preset) }
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
async function openDataset(flags: TrainFlags, terminal: Terminal): Promise<Dataset> {
  const imageSize = flags.imageSize ? number(flags.imageSize, '--image-size', 8, 1024) : undefined;
  const isFolder = flags.data !== 'cifar10' && (await isDirectory(flags.data));
  if (imageSize !== undefined && !isFolder)
    throw new UsageError(
      '--image-size applies to image folders only',
      "CIFAR-10 and archives train at their images' own size: drop --image-size",
    );
  if (flags.data === 'cifar10') {
    const cifar = await loadCifar10({
      ...(flags.offline ? { offline: true } : {}),
      onProgress: (loaded, total) =>
        terminal.progress(
          total ? loaded / total : 0,
          `downloading CIFAR-10: ${(loaded / 1e6).toFixed(0)}${total ? ` of ${(total / 1e6).toFixed(0)}` : ''} MB`,
        ),
    }).catch((error: unknown) => {
      if (ImgclsError.isInstance(error, 'OFFLINE'))
        throw new UsageError(
          `CIFAR-10 is not in the cache (${defaultCacheDir()}) and --offline forbids downloading it`,
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
async function predictAll(
  model: LayersModel,
  data: TrainingData,
): Promise<{ truth: number[]; predicted: number[] }> {
  const truth: number[] = [];
  const predicted: number[] = [];
  for (let start = 0; start < data.size; start += 256) {
    const indices = Array.from(
      { length: Math.min(256, data.size - start) },
      (_, offset) => start + offset,
    );
    await data.load?.(indices);
    const { images, labels } = data.batch(indices);
    const guesses = tf.tidy(() => tf.argMax(model.predict(images) as tf.Tensor, -1));
    predicted.push(...(guesses.dataSync() as Int32Array));
    truth.push(...(labels.dataSync() as Int32Array));
    tf.dispose([images, labels, guesses]);
  }
  return { truth, predicted };
}

/** The flags added after the first release, as typed, for metadata `source` (absent ones stay out). */
function newFlags(flags: TrainFlags): string {
  return [
    flags.cutout ? ` --cutout ${flags.cutout}` : '',
    flags.jitter ? ` --jitter ${flags.jitter}` : '',
    flags.mixup ? ` --mixup ${flags.mixup}` : '',
    flags.cutmix ? ` --cutmix ${flags.cutmix}` : '',
    flags.clipNorm !== DEFAULT_CLIP_NORM ? ` --clip-norm ${flags.clipNorm}` : '',
    flags.imageSize ? ` --image-size ${flags.imageSize}` : '',
  ].join('');
}

/** `imgcls train`: trains a CIFAR-style classifier on an image-folder archive, with checkpoints and resume. */
export function registerTrain(program: Command, terminal: () => Terminal): void {
  program
    .command('train')
    .description('train a classifier from scratch on CIFAR-10, an image folder or an image archive')
    .requiredOption(
      '-d, --data <source>',
      'cifar10 (the official binary archive, downloaded once into the cache), a folder (<class>/<image>, or train/ and test/ sub-folders of those), or a tar(.gz): the CIFAR-10 binary archive or <split>/<class>/<image> entries such as the CIFAR-10 JPEG archive',
    )
    .option(
      '-a, --arch <name>',
      `architecture: ${Object.keys(ARCHITECTURES).join(', ')}`,
      'resnet9',
    )
    .option('-e, --epochs <n>', 'epochs', '20')
    .option('-b, --batch-size <n>', 'images per step', '64')
    .option('--lr <rate>', 'peak learning rate', '0.003')
    .option('--optimizer <name>', 'adamw or sgd (Nesterov)', 'adamw')
    .option('--schedule <name>', 'onecycle, cosine or constant', 'onecycle')
    .option('--augment', 'random crops (4 px reflect padding) and horizontal flips')
    .option('--cutout <px>', 'blank a random square of this side in each training image')
    .option(
      '--jitter <s>',
      'colour jitter strength in [0, 1): one for brightness, contrast and saturation, or three as b,c,s',
    )
    .option('--mixup <alpha>', 'mixup: blend image pairs by λ ~ Beta(alpha, alpha), e.g. 0.2')
    .option(
      '--cutmix <alpha>',
      'CutMix: paste a box of another image, area ~ Beta(alpha, alpha), e.g. 1',
    )
    .option('--clip-norm <n>', 'clip gradients to this global L2 norm', DEFAULT_CLIP_NORM)
    .option(
      '--image-size <px>',
      'input side for image folders (default: the size of the first image)',
    )
    .option('--offline', 'never download: --data cifar10 must already be cached')
    .option('--label-smoothing <e>', 'label smoothing', '0.1')
    .option('--validation-split <f>', 'fraction of train/ held out for validation', '0.1')
    .option('--seed <n>', 'seed of the split, the data order and the initial weights', '1')
    .option(
      '-o, --out <folder>',
      'model folder (default models/cifar10-<arch>, or models/<data name>-<arch> for other classes); checkpoints go to <out>/checkpoint',
    )
    .addHelpText(
      'after',
      `
Examples:
  imgcls train --data cifar10 --arch resnet9 --epochs 24 --augment --cutout 8
  imgcls train --data cifar10-jpg.tar.gz --arch seedcnn --epochs 10 --out models/cifar10-seedcnn
  imgcls train --data photos/ --image-size 64 --augment --jitter 0.2 --mixup 0.2 --out models/photos
Image folders are decoded batch by batch (the next batch while the current one trains), so they need
not fit in memory; CIFAR-10 and archives are held in memory (CIFAR-10: 184 MB).
Ctrl-C saves a checkpoint and exits; run the same command again to resume where it stopped. A run
whose settings differ from the checkpoint's (augmentation, learning rate, clipping…) refuses to resume.`,
    )
    .action(async (flags: TrainFlags) => {
      const out = terminal();
      const build = ARCHITECTURES[flags.arch as keyof typeof ARCHITECTURES];
      if (!build)
        throw new UsageError(
          `unknown --arch "${flags.arch}"`,
          `choose one of ${Object.keys(ARCHITECTURES).join(', ')}`,
        );
      const epochs = number(flags.epochs, '--epochs', 1, 1000);
      const batchSize = number(flags.batchSize, '--batch-size', 1, 4096);
      const peakRate = number(flags.lr, '--lr', 1e-7, 10);
      const seed = number(flags.seed, '--seed', 0, 2 ** 31);
      const clipNorm = number(flags.clipNorm, '--clip-norm', 1e-6, 1e6);
      const validationSplit = number(flags.validationSplit, '--validation-split', 0, 0.5);
      const augmentation = augmentationOf(flags, seed);
      const backend = await selectBackend('auto');
      if (backend === 'wasm') registerWasmGradients();
      out.err(out.style('dim', `reading ${flags.data}…`));
      const started = Date.now();
      const dataset = await openDataset(flags, out);
      const isCifar =
        dataset.classes.length === CIFAR10_LABELS.length &&
        dataset.classes.every((name, index) => name === CIFAR10_LABELS[index]);
      const modelName = isCifar
        ? `cifar10-${flags.arch}`
        : `${basename(resolve(flags.data)).replace(/\.(tar\.gz|tgz|tar)$/, '')}-${flags.arch}`;
      const directory = resolve(flags.out ?? `models/${modelName}`);
      const split = splitIndices(dataset.count, validationSplit, seed);
      const [height, width] = dataset.size;
      const preset: PreprocessPreset = { ...PRESETS.cifar10, height, width };
      const data = dataset.subset(split.train, preset, augmentation);
      const validation =
        split.validation.length > 0 ? dataset.subset(split.validation, preset) : undefined;
      const model = build({
        inputShape: [height, width, 3],
        classes: dataset.classes.length,
        seed,
      });
      const totalSteps = epochs * Math.ceil(data.size / batchSize);
      const schedule =
        flags.schedule === 'onecycle'
          ? oneCycle(peakRate, totalSteps)
          : flags.schedule === 'cosine'
            ? cosine(peakRate, totalSteps)
            : constant(peakRate);
      const optimizer =
        flags.optimizer === 'sgd'
          ? new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 })
          : new AdamW({ weightDecay: 5e-4 });
      out.err(
        `${flags.arch}: ${model.countParams().toLocaleString('en-US')} parameters, ${data.size} training and ${validation?.size ?? 0} validation images, ${epochs} epochs on ${backend}`,
      );

      const controller = new AbortController();
      const onInterrupt = () => controller.abort();
      process.once('SIGINT', onInterrupt);
      await mkdir(directory, { recursive: true });
      // One JSON line per epoch, appended as it ends, so the curves survive interruptions and resumes.
      const historyFile = join(directory, 'history.jsonl');
      const result = await train(
        {
          model,
          data,
          ...(validation ? { validation } : {}),
          numClasses: dataset.classes.length,
          epochs,
          batchSize,
          optimizer,
          schedule,
          labelSmoothing: number(flags.labelSmoothing, '--label-smoothing', 0, 0.5),
          clipNorm,
          seed,
          checkpointDir: join(directory, 'checkpoint'),
          checkpointEvery: 100,
          // Checked on resume beside the loop's and the data's own settings (clipping, augmentation).
          settings: {
            source: dataset.kind,
            architecture: flags.arch,
            learningRate: peakRate,
            optimizer: flags.optimizer,
            schedule: flags.schedule,
            validationSplit,
          },
        },
        {
          signal: controller.signal,
          onEvent: (event) => {
            if (event.type === 'step') {
              out.progress(
                event.step / event.totalSteps,
                `step ${event.step}/${event.totalSteps} loss ${event.loss.toFixed(3)} ${event.imagesPerSecond.toFixed(0)} img/s ETA ${Math.round(event.etaSeconds / 60)} min`,
              );
            } else if (event.type === 'epoch') {
              const line = {
                epoch: event.epoch + 1,
                loss: event.loss,
                ...(event.validation
                  ? {
                      validationAccuracy: event.validation.accuracy,
                      validationLoss: event.validation.loss,
                    }
                  : {}),
              };
              void appendFile(historyFile, `${JSON.stringify(line)}\n`);
              const validationText = event.validation
                ? `, validation accuracy ${(event.validation.accuracy * 100).toFixed(2)}%`
                : '';
              out.err(
                `epoch ${event.epoch + 1}/${epochs}: loss ${event.loss.toFixed(4)}${validationText}`,
              );
            } else if (event.type === 'resumed') {
              out.err(
                `resumed from ${join(directory, 'checkpoint')} at step ${event.step} (epoch ${event.epoch + 1})`,
              );
            }
          },
        },
      );
      process.off('SIGINT', onInterrupt);
      out.endProgress();
      if (result.status === 'aborted') {
        out.err(
          `interrupted at step ${result.step}: checkpoint saved in ${join(directory, 'checkpoint')}; run the same command to resume`,
        );
        process.exitCode = EXIT.interrupted;
        return;
      }
      const metrics: Record<string, number> = {
        epochs,
        trainingSeconds: Math.round((Date.now() - started) / 1000),
      };
      if (dataset.test) {
        const { truth, predicted } = await predictAll(model, dataset.test(preset));
        metrics.testAccuracy = accuracy(truth, predicted);
        out.out(
          formatReportText(
            classificationReport(truth, predicted, { labels: [...dataset.classes] }),
          ),
        );
        await writeFile(
          join(directory, 'test-confusion.json'),
          JSON.stringify(
            Array.from(confusionMatrix(truth, predicted, dataset.classes.length).counts),
          ),
        );
      }
      if (validation)
        metrics.validationAccuracy = (
          await evaluateDataset(model, validation, {
            numClasses: dataset.classes.length,
            batchSize: 256,
          })
        ).accuracy;
      await model.save(directoryHandler(directory));
      const metadata: ModelMetadata = {
        schemaVersion: 1,
        id: modelName,
        name: `${flags.arch} trained on ${isCifar ? 'CIFAR-10' : basename(resolve(flags.data))} by imgcls`,
        version: new Date().toISOString().slice(0, 10),
        format: 'layers-model',
        architecture: flags.arch,
        labels: [...dataset.classes],
        output: 'probabilities',
        preset,
        source: `imgcls train --data ${flags.data} --arch ${flags.arch} --epochs ${epochs} --batch-size ${batchSize} --lr ${peakRate} --optimizer ${flags.optimizer} --schedule ${flags.schedule}${flags.augment ? ' --augment' : ''}${newFlags(flags)} --seed ${seed}`,
        metrics,
      };
      await writeMetadata(directory, metadata);
      out.out(
        `saved ${directory}${metrics.testAccuracy !== undefined ? `: test accuracy ${(metrics.testAccuracy * 100).toFixed(2)}%` : ''}`,
      );
    });
}
