import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import {
  airbench,
  CIFAR10_LABELS,
  type ModelMetadata,
  resNet9,
  seedCnn,
  WHITENING_LAYER,
} from '@imgcls/models';
import { directoryHandler, writeMetadata } from '@imgcls/models/node';
import { PRESETS, type PreprocessPreset } from '@imgcls/preprocess';
import {
  AdamW,
  type Augmentation,
  constant,
  cosine,
  evaluateDataset,
  fitWhitening,
  Lookahead,
  oneCycle,
  Sgd,
  splitIndices,
  train,
  triangular,
} from '@imgcls/train';
import { registerWasmGradients } from '@imgcls/wasm-grad';
import { type Command, Option } from 'commander';
import { startBackend } from '../backend';
import { EXIT, UsageError } from '../errors';
import { newModelFolder } from '../model-store';
import type { Terminal } from '../terminal';
import {
  number,
  openDataset,
  reportTraining,
  testModel,
  testTimeAugmentationOf,
} from '../training-data';
import { trainTransfer, transferLimits } from './train-transfer';

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
  readonly labelSmoothing: string;
  readonly validationSplit: string;
  readonly seed: string;
  readonly out?: string;
  readonly backbone: string;
  readonly limit?: string;
  readonly testLimit?: string;
  readonly fineTuneFrom?: string;
  readonly fineTuneEpochs: string;
  readonly resume?: boolean;
  readonly width?: string;
  readonly logitScale?: string;
  readonly momentum: string;
  readonly weightDecay: string;
  readonly biasLrScale?: string;
  readonly cropPadding?: string;
  readonly tta?: string;
  readonly lookahead?: boolean;
  readonly alternateFlip?: boolean;
}

const ARCHITECTURES = { seedcnn: seedCnn, resnet9: resNet9, airbench } as const;
/** The architecture trained by transfer learning from a pretrained backbone, not from scratch. */
const TRANSFER_ARCHITECTURE = 'mobilenetv2';

/** The default of --clip-norm: what every run clipped to before the flag existed. */
const DEFAULT_CLIP_NORM = '5';
/** Defaults of flags `source` records only when they differ (older sources omit them). */
const DEFAULT_LABEL_SMOOTHING = '0.1';
const DEFAULT_VALIDATION_SPLIT = '0.1';
const DEFAULT_MOMENTUM = '0.9';
const DEFAULT_WEIGHT_DECAY = '5e-4';
const DEFAULT_CROP_PADDING = '4';

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
    ...(flags.augment
      ? {
          cropPadding: number(flags.cropPadding ?? DEFAULT_CROP_PADDING, '--crop-padding', 0, 64),
          horizontalFlip: flags.alternateFlip ? ('alternate' as const) : true,
        }
      : {}),
    ...(flags.cutout ? { cutout: number(flags.cutout, '--cutout', 1, 1024) } : {}),
    ...(flags.jitter ? jitterOf(flags.jitter) : {}),
    ...(flags.mixup ? { mixup: number(flags.mixup, '--mixup', 0.01, 100) } : {}),
    ...(flags.cutmix ? { cutmix: number(flags.cutmix, '--cutmix', 0.01, 100) } : {}),
  };
  if (flags.cropPadding && !flags.augment)
    throw new UsageError('--crop-padding applies with --augment only');
  if (flags.alternateFlip && !flags.augment)
    throw new UsageError('--alternate-flip applies with --augment only');
  if (options.cropPadding !== undefined && !Number.isInteger(options.cropPadding))
    throw new UsageError(
      `--crop-padding must be a whole number of pixels, got "${flags.cropPadding}"`,
    );
  if (options.cutout !== undefined && !Number.isInteger(options.cutout))
    throw new UsageError(`--cutout must be a whole number of pixels, got "${flags.cutout}"`);
  return Object.keys(options).length > 0 ? { ...options, seed } : undefined;
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
    flags.width ? ` --width ${flags.width}` : '',
    flags.logitScale ? ` --logit-scale ${flags.logitScale}` : '',
    flags.labelSmoothing !== DEFAULT_LABEL_SMOOTHING
      ? ` --label-smoothing ${flags.labelSmoothing}`
      : '',
    flags.validationSplit !== DEFAULT_VALIDATION_SPLIT
      ? ` --validation-split ${flags.validationSplit}`
      : '',
    flags.cropPadding ? ` --crop-padding ${flags.cropPadding}` : '',
    flags.alternateFlip ? ' --alternate-flip' : '',
    flags.momentum !== DEFAULT_MOMENTUM ? ` --momentum ${flags.momentum}` : '',
    flags.weightDecay !== DEFAULT_WEIGHT_DECAY ? ` --weight-decay ${flags.weightDecay}` : '',
    flags.biasLrScale ? ` --bias-lr-scale ${flags.biasLrScale}` : '',
    flags.lookahead ? ' --lookahead' : '',
    flags.tta ? ` --tta ${flags.tta}` : '',
  ].join('');
}

/** Whether a weight name is a batch-norm layer's bias (Keras calls it beta). */
function isNormBias(name: string): boolean {
  return name.endsWith('/beta');
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
    .addOption(
      new Option(
        '-a, --arch <name>',
        `architecture: ${Object.keys(ARCHITECTURES).join(', ')} (from scratch), or ${TRANSFER_ARCHITECTURE} (transfer learning from --backbone)`,
      )
        .choices([...Object.keys(ARCHITECTURES), TRANSFER_ARCHITECTURE])
        .default('resnet9'),
    )
    .option(
      '--backbone <model>',
      `${TRANSFER_ARCHITECTURE} only: the pretrained layers model (a model id, a folder in the models folder, or a path)`,
      'mobilenet-v2',
    )
    .option(
      '--limit <n>',
      `${TRANSFER_ARCHITECTURE} only: a stratified subset of n training images`,
    )
    .option(
      '--test-limit <n>',
      `${TRANSFER_ARCHITECTURE} only: a stratified subset of n test images`,
    )
    .option(
      '--fine-tune-from <layer>',
      `${TRANSFER_ARCHITECTURE} only: after the head, fine-tune the backbone from this layer on at lr/10`,
    )
    .option('--fine-tune-epochs <n>', 'epochs of fine-tuning', '2')
    .option(
      '--width <w>',
      'resnet9 only: channel multiplier (0.5 = 32–256 channels, about 4x less compute per image)',
    )
    .option(
      '--logit-scale <s>',
      "resnet9 only: multiply the logits by s before the softmax (0.125 in Myrtle's DAWNBench recipe: a gentler start)",
    )
    .option(
      '--resume',
      'continue from the checkpoint in <out>/checkpoint, and fail if there is none (the same command resumes without it too)',
    )
    .option('-e, --epochs <n>', 'epochs', '20')
    .option('-b, --batch-size <n>', 'images per step', '64')
    .option('--lr <rate>', 'peak learning rate', '0.003')
    // Enumerated flags are checked at parse time (exit 2 with the valid list): an unknown value once
    // trained silently with another one and was recorded in the model's metadata as if it had run.
    .addOption(
      new Option('--optimizer <name>', 'adamw or sgd (Nesterov)')
        .choices(['adamw', 'sgd'])
        .default('adamw'),
    )
    .addOption(
      new Option(
        '--schedule <name>',
        'onecycle, cosine, triangular (airbench: 0.2×lr up to lr at 23% of the steps, down to 0.07×lr) or constant',
      )
        .choices(['onecycle', 'cosine', 'triangular', 'constant'])
        .default('onecycle'),
    )
    .option('--momentum <m>', 'momentum of sgd (β₁ of adamw stays 0.9)', DEFAULT_MOMENTUM)
    .option(
      '--weight-decay <λ>',
      'decoupled weight decay: each step shrinks weights by lr·λ',
      DEFAULT_WEIGHT_DECAY,
    )
    .option(
      '--bias-lr-scale <k>',
      'multiply the learning rate of batch-norm biases by k (airbench: 64), not their weight decay',
    )
    .option(
      '--augment',
      'random crops (reflect padding, 4 px or --crop-padding) and horizontal flips',
    )
    .option('--crop-padding <px>', "padding of --augment's random crops")
    .option(
      '--alternate-flip',
      "--augment's flips alternate: each image mirrored in every other epoch (airbench), not at random",
    )
    .option(
      '--lookahead',
      'airbench/hlb lookahead: from epoch 4, every 5 steps the weights return to a moving average of themselves',
    )
    .option(
      '--tta <mode>',
      'test-time augmentation the model is tested and served with: none, flip or flip-translate (not a training setting: may be added on resume)',
    )
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
    .option('--label-smoothing <e>', 'label smoothing', DEFAULT_LABEL_SMOOTHING)
    .option(
      '--validation-split <f>',
      'fraction of train/ held out for validation',
      DEFAULT_VALIDATION_SPLIT,
    )
    .option('--seed <n>', 'seed of the split, the data order and the initial weights', '1')
    .option(
      '-o, --out <folder>',
      'model folder (default <models folder>/cifar10-<arch>, or <models folder>/<data name>-<arch> for other classes, the models folder being --models-dir, $IMGCLS_MODELS_DIR or ./models); checkpoints go to <out>/checkpoint',
    )
    .addHelpText(
      'after',
      `
Examples:
  imgcls train --data cifar10 --arch resnet9 --epochs 24 --augment --cutout 8
  imgcls train --data flowers/ --arch mobilenetv2 --epochs 20 --lr 0.001 --out models/flowers
  imgcls train --data cifar10 --arch mobilenetv2 --limit 5000 --test-limit 2000 --lr 0.001
  imgcls train --data cifar10-jpg.tar.gz --arch seedcnn --epochs 10 --out models/cifar10-seedcnn
  imgcls train --data photos/ --image-size 64 --augment --jitter 0.2 --mixup 0.2 --out models/photos
Image folders are decoded batch by batch (the next batch while the current one trains), so they need
not fit in memory; CIFAR-10 and archives are held in memory (CIFAR-10: 184 MB).
Ctrl-C saves a checkpoint and exits; run the same command again to resume where it stopped. A run
whose settings differ from the checkpoint's (augmentation, learning rate, clipping…) refuses to resume.`,
    )
    .action(async (flags: TrainFlags) => {
      const out = terminal();
      const transfer = flags.arch === TRANSFER_ARCHITECTURE;
      // --arch is one of these or the transfer architecture: its choices() were checked at parsing.
      const build = ARCHITECTURES[flags.arch as keyof typeof ARCHITECTURES];
      if (!transfer && (flags.limit || flags.testLimit || flags.fineTuneFrom))
        throw new UsageError(
          '--limit, --test-limit and --fine-tune-from apply to transfer learning only',
          `add --arch ${TRANSFER_ARCHITECTURE}, or drop them`,
        );
      const epochs = number(flags.epochs, '--epochs', 1, 1000);
      const batchSize = number(flags.batchSize, '--batch-size', 1, 4096);
      const peakRate = number(flags.lr, '--lr', 1e-7, 10);
      const seed = number(flags.seed, '--seed', 0, 2 ** 31);
      const clipNorm = number(flags.clipNorm, '--clip-norm', 1e-6, 1e6);
      const validationSplit = number(flags.validationSplit, '--validation-split', 0, 0.5);
      const augmentation = augmentationOf(flags, seed);
      const tta = flags.tta ? testTimeAugmentationOf(flags.tta) : 'none';
      const views = tta === 'none' ? undefined : tta;
      if (flags.width && flags.arch !== 'resnet9')
        throw new UsageError('--width applies to --arch resnet9 only');
      const widthMultiplier = flags.width ? number(flags.width, '--width', 0.125, 4) : undefined;
      if (flags.logitScale && flags.arch !== 'resnet9')
        throw new UsageError('--logit-scale applies to --arch resnet9 only');
      const logitScale = flags.logitScale
        ? number(flags.logitScale, '--logit-scale', 1e-3, 1e3)
        : undefined;
      const backend = await startBackend();
      if (backend === 'wasm') registerWasmGradients();
      out.err(out.style('dim', `reading ${flags.data}…`));
      const started = Date.now();
      const dataset = await openDataset(flags, out);
      const isCifar =
        dataset.classes.length === CIFAR10_LABELS.length &&
        dataset.classes.every((name, index) => name === CIFAR10_LABELS[index]);
      const arch = `${flags.arch}${widthMultiplier ? `-w${widthMultiplier}` : ''}`;
      const modelName = isCifar
        ? `cifar10-${arch}`
        : `${basename(resolve(flags.data)).replace(/\.(tar\.gz|tgz|tar)$/, '')}-${arch}`;
      const directory = flags.out ? resolve(flags.out) : newModelFolder(modelName);
      const checkpointFile = join(directory, 'checkpoint', 'checkpoint.json');
      if (flags.resume && !existsSync(checkpointFile))
        throw new UsageError(
          `--resume: there is no checkpoint at ${checkpointFile}`,
          'drop --resume to start training, or pass the --out of the run to continue',
        );
      if (transfer)
        return trainTransfer(
          {
            backbone: flags.backbone,
            epochs,
            batchSize,
            learningRate: peakRate,
            labelSmoothing: number(flags.labelSmoothing, '--label-smoothing', 0, 0.5),
            validationSplit,
            seed,
            ...transferLimits(flags),
            ...(flags.fineTuneFrom ? { fineTuneFrom: flags.fineTuneFrom } : {}),
            ...(augmentation ? { augmentation } : {}),
            command: `imgcls ${process.argv.slice(2).join(' ')}`,
          },
          dataset,
          directory,
          out,
          started,
        );
      const split = splitIndices(dataset.count, validationSplit, seed);
      const [height, width] = dataset.size;
      const preset: PreprocessPreset = { ...PRESETS.cifar10, height, width };
      const data = dataset.subset(split.train, preset, augmentation);
      const validation =
        split.validation.length > 0 ? dataset.subset(split.validation, preset) : undefined;
      const model = (build as NonNullable<typeof build>)({
        inputShape: [height, width, 3],
        classes: dataset.classes.length,
        seed,
        ...(widthMultiplier ? { width: widthMultiplier } : {}),
        ...(logitScale ? { logitScale } : {}),
      });
      if (flags.arch === 'airbench')
        await fitWhitening(
          model.getLayer(WHITENING_LAYER),
          // Unaugmented: the whitening statistics come from the images as the model sees them.
          dataset.subset(split.train, preset),
          { seed },
        );
      const totalSteps = epochs * Math.ceil(data.size / batchSize);
      const schedule =
        flags.schedule === 'onecycle'
          ? oneCycle(peakRate, totalSteps)
          : flags.schedule === 'cosine'
            ? cosine(peakRate, totalSteps)
            : flags.schedule === 'triangular'
              ? triangular(peakRate, totalSteps)
              : constant(peakRate);
      const momentum = number(flags.momentum, '--momentum', 0, 0.999);
      const weightDecay = number(flags.weightDecay, '--weight-decay', 0, 1);
      const biasRateScale = flags.biasLrScale
        ? number(flags.biasLrScale, '--bias-lr-scale', 1e-3, 1e4)
        : undefined;
      const optimizer =
        flags.optimizer === 'sgd'
          ? new Sgd({ momentum, nesterov: true, weightDecay })
          : new AdamW({ weightDecay });
      out.err(
        `${flags.arch}: ${model.countParams().toLocaleString('en-US')} parameters, ${data.size} training and ${validation?.size ?? 0} validation images, ${epochs} epochs on ${backend}`,
      );

      const controller = new AbortController();
      const onInterrupt = () => controller.abort();
      process.once('SIGINT', onInterrupt);
      await mkdir(directory, { recursive: true });
      // One JSON line per epoch, written as it ends, so the curves survive interruptions and resumes.
      const historyFile = join(directory, 'history.jsonl');
      const trainingStarted = Date.now();
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
          ...(biasRateScale
            ? { rateScale: (name: string) => (isNormBias(name) ? biasRateScale : 1) }
            : {}),
          ...(flags.lookahead ? { lookahead: new Lookahead() } : {}),
          checkpointDir: join(directory, 'checkpoint'),
          checkpointEvery: 100,
          // Checked on resume beside the loop's and the data's own settings (clipping, augmentation).
          settings: {
            source: dataset.kind,
            architecture: arch,
            learningRate: peakRate,
            optimizer: flags.optimizer,
            schedule: flags.schedule,
            validationSplit,
            ...(logitScale ? { logitScale } : {}),
            ...(flags.momentum !== DEFAULT_MOMENTUM ? { momentum } : {}),
            ...(flags.weightDecay !== DEFAULT_WEIGHT_DECAY ? { weightDecay } : {}),
          },
        },
        {
          signal: controller.signal,
          onEvent: reportTraining(out, {
            epochs,
            historyFile,
            checkpointDir: join(directory, 'checkpoint'),
          }),
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
        // This process's reading of the data, then the training of every process that ran a part of it.
        trainingSeconds: Math.round((trainingStarted - started) / 1000 + result.seconds),
      };
      if (dataset.test) {
        const tested = await testModel(
          model,
          dataset.test(preset),
          dataset.classes,
          directory,
          out,
          views,
        );
        metrics.testAccuracy = tested.accuracy;
        if (tested.singleViewAccuracy !== undefined)
          metrics.testAccuracySingleView = tested.singleViewAccuracy;
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
        name: `${flags.arch}${widthMultiplier ? ` (width ${widthMultiplier})` : ''} trained on ${isCifar ? 'CIFAR-10' : basename(resolve(flags.data))} by imgcls`,
        version: new Date().toISOString().slice(0, 10),
        format: 'layers-model',
        architecture: flags.arch,
        labels: [...dataset.classes],
        output: 'probabilities',
        preset,
        ...(views ? { testTimeAugmentation: views } : {}),
        source: `imgcls train --data ${flags.data} --arch ${flags.arch} --epochs ${epochs} --batch-size ${batchSize} --lr ${peakRate} --optimizer ${flags.optimizer} --schedule ${flags.schedule}${flags.augment ? ' --augment' : ''}${newFlags(flags)} --seed ${seed}`,
        metrics,
      };
      await writeMetadata(directory, metadata);
      out.out(
        `saved ${directory}${metrics.testAccuracy !== undefined ? `: test accuracy ${(metrics.testAccuracy * 100).toFixed(2)}%` : ''}`,
      );
    });
}
