/**
 * Wall time to reach validation-accuracy thresholds on CIFAR-10 with the recipe of the shipped CIFAR-10
 * model (`models/cifar10-airbench`: airbench94's network and recipe, see its MODEL_CARD.md) and, as the
 * baseline measured in the same run, the prototype's recipe on the prototype's network (the seed CNN, Adam
 * at a constant 0.001, batch 32, no augmentation, no label smoothing). `--recipe resnet9` or `seedcnn`
 * measures the recipe of `models/cifar10-resnet9` or `models/cifar10-seedcnn` instead. Both train on
 * wasm with @imgcls/wasm-grad; validation is single-view (no test-time augmentation).
 * Usage: node --conditions=@imgcls/source --import tsx time-to-accuracy.ts [--epochs N] [--limit N]
 *   [--threads N] [--recipe airbench|resnet9|seedcnn] [--checkpoints <dir>]
 *   --epochs sets both runs' length (the schedules span it; by default the shipped model's epochs: 20 for
 *   airbench, 3 for resnet9, 10 for seedcnn); --limit trains on a seeded subset of N
 *   training images (a quick check that the bench runs). --checkpoints lets the bench span processes:
 *   each run checkpoints there (and stops cleanly on Ctrl-C); the same command resumes it, and an epoch's
 *   time counts every process that ran a part of it.
 */
import '@tensorflow/tfjs-backend-wasm';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { airbench, CIFAR10_LABELS, resNet9, seedCnn, WHITENING_LAYER } from '@imgcls/models';
import { PRESETS } from '@imgcls/preprocess';
import {
  AdamW,
  type Augmentation,
  constant,
  fitWhitening,
  imageSetData,
  Lookahead,
  type Optimizer,
  oneCycle,
  readImageArchive,
  type Schedule,
  Sgd,
  splitIndices,
  type TrainingData,
  train,
  triangular,
} from '@imgcls/train';
import { registerWasmGradients } from '@imgcls/wasm-grad';
import type * as tfl from '@tensorflow/tfjs-layers';
import { sharedData } from '../tooling/test-data';
import { startWasmFromArguments } from './lib/wasm-threads';

const THRESHOLDS = [0.7, 0.75, 0.8, 0.85, 0.9] as const;

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

interface Recipe {
  readonly name: string;
  /** Its folder under --checkpoints. */
  readonly key: string;
  readonly build: (inputShape: [number, number, number]) => tfl.LayersModel;
  readonly batchSize: number;
  readonly augmentation?: Augmentation;
  readonly labelSmoothing: number;
  readonly optimizer: () => Optimizer;
  /** Gradient clipping by global norm; `imgcls train` clips at 5 by default. */
  readonly clipNorm?: number;
  readonly schedule: (totalSteps: number) => Schedule;
  /** Learning-rate multipliers by weight name (see TrainConfig.rateScale). */
  readonly rateScale?: (weightName: string) => number;
  /** Weight averaging (see TrainConfig.lookahead); a new one per run. */
  readonly lookahead?: () => Lookahead;
  /** Data-dependent initialisation, from the training images without augmentation. */
  readonly prepare?: (model: tfl.LayersModel, data: TrainingData) => Promise<void>;
}

/** The recipe of a shipped model. */
interface ShippedRecipe extends Recipe {
  /** The epochs the shipped model trained for: the default length of both runs. */
  readonly epochs: number;
}

const CROPS_AND_FLIPS: Augmentation = { cropPadding: 4, horizontalFlip: true, seed: 1 };

/** What `imgcls train` ran for each shipped model (their MODEL_CARD.md gives the command). */
const OURS: Record<string, ShippedRecipe> = {
  airbench: {
    name: 'imgcls recipe (shipped airbench)',
    key: 'airbench',
    build: (inputShape) => airbench({ inputShape, classes: 10, seed: 1 }),
    batchSize: 256,
    epochs: 20,
    augmentation: { cropPadding: 2, horizontalFlip: 'alternate', seed: 1 },
    labelSmoothing: 0.2,
    optimizer: () => new Sgd({ momentum: 0.85, nesterov: true, weightDecay: 0.0089 }),
    // The shipped command's --clip-norm 1000: no clipping in effect.
    clipNorm: 1000,
    schedule: (totalSteps) => triangular(0.375, totalSteps),
    rateScale: (name) => (name.endsWith('/beta') ? 64 : 1),
    lookahead: () => new Lookahead(),
    prepare: (model, data) => fitWhitening(model.getLayer(WHITENING_LAYER), data, { seed: 1 }),
  },
  resnet9: {
    name: 'imgcls recipe (shipped ResNet-9)',
    key: 'resnet9',
    build: (inputShape) =>
      resNet9({ inputShape, classes: 10, seed: 1, width: 0.5, logitScale: 0.125 }),
    batchSize: 128,
    epochs: 3,
    augmentation: CROPS_AND_FLIPS,
    labelSmoothing: 0.2,
    optimizer: () => new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 }),
    clipNorm: 5,
    schedule: (totalSteps) => oneCycle(0.2, totalSteps),
  },
  seedcnn: {
    name: 'imgcls recipe (shipped seed CNN)',
    key: 'seedcnn',
    build: (inputShape) => seedCnn({ inputShape, classes: 10, seed: 1 }),
    batchSize: 64,
    epochs: 10,
    augmentation: CROPS_AND_FLIPS,
    labelSmoothing: 0.1,
    optimizer: () => new AdamW({ weightDecay: 5e-4 }),
    clipNorm: 5,
    schedule: (totalSteps) => oneCycle(0.002, totalSteps),
  },
};

const PROTOTYPE: Recipe = {
  name: 'prototype recipe (baseline)',
  key: 'prototype',
  build: (inputShape) => seedCnn({ inputShape, classes: 10, seed: 1 }),
  batchSize: 32,
  labelSmoothing: 0,
  optimizer: () => new AdamW({ weightDecay: 0 }),
  schedule: () => constant(0.001),
};

const recipeName = process.argv.includes('--recipe')
  ? (process.argv[process.argv.indexOf('--recipe') + 1] ?? '')
  : 'airbench';
const ourRecipe = OURS[recipeName];
if (!ourRecipe) {
  console.error(`--recipe must be one of ${Object.keys(OURS).join(', ')}, got "${recipeName}"`);
  process.exit(2);
}
const archive = sharedData('cifar10/cifar10-jpg.tar.gz');
if (!archive) {
  console.log('time-to-accuracy: skipped, ../shared/data/cifar10/cifar10-jpg.tar.gz is absent');
  process.exit(0);
}
const epochs = option('--epochs', ourRecipe.epochs);
const checkpoints = process.argv.includes('--checkpoints')
  ? process.argv[process.argv.indexOf('--checkpoints') + 1]
  : undefined;
// Every core, as `imgcls train` uses them by default; --threads 1 for tfjs' stock backend.
const threads = await startWasmFromArguments();
registerWasmGradients();
console.log(`wasm backend, XNNPACK threads ${threads}`);
const set = await readImageArchive(archive, 'train', CIFAR10_LABELS);
const split = splitIndices(set.count, 0.1, 1);
const limit = option('--limit', split.train.length);
const trainIndices = split.train.filter(
  (_, position) => position % Math.ceil(split.train.length / limit) === 0,
);
const preset = { ...PRESETS.cifar10, height: set.height, width: set.width };
console.log(
  `CIFAR-10: ${trainIndices.length} training and ${split.validation.length} validation images, ${epochs} epochs per recipe, wasm`,
);

/** Validation accuracy and training seconds of each epoch a run has ended, by epoch (0-based). */
type EpochTimes = Record<number, { accuracy: number; seconds: number }>;

/** What a recipe's run reached: seconds to each threshold it crossed, and its best validation accuracy. */
interface RunResult {
  reached: Map<number, number>;
  best: number;
}

/**
 * Training seconds (epochs summed, validation included) to the end of the first epoch reaching each
 * threshold. With --checkpoints the run resumes from its folder there, which also keeps its epochs' times.
 */
async function timeToAccuracy(recipe: Recipe): Promise<RunResult> {
  const directory = checkpoints ? join(checkpoints, recipe.key) : undefined;
  const timesFile = directory ? join(directory, 'epochs.json') : undefined;
  const times: EpochTimes = timesFile ? readTimes(timesFile) : {};
  const data = imageSetData(set, trainIndices, preset, recipe.augmentation);
  const validation = imageSetData(set, split.validation, preset);
  const model = recipe.build([set.height, set.width, 3]);
  // Deterministic (seeded), so a resumed run fits the same whitening its checkpoint's weights expect.
  await recipe.prepare?.(model, imageSetData(set, trainIndices, preset));
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  const result = await train(
    {
      model,
      data,
      validation,
      numClasses: 10,
      epochs,
      batchSize: recipe.batchSize,
      optimizer: recipe.optimizer(),
      schedule: recipe.schedule(epochs * Math.ceil(data.size / recipe.batchSize)),
      labelSmoothing: recipe.labelSmoothing,
      ...(recipe.clipNorm ? { clipNorm: recipe.clipNorm } : {}),
      ...(recipe.rateScale ? { rateScale: recipe.rateScale } : {}),
      ...(recipe.lookahead ? { lookahead: recipe.lookahead() } : {}),
      ...(directory ? { checkpointDir: directory, checkpointEvery: 50 } : {}),
      seed: 1,
    },
    {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'resumed')
          console.log(`  ${recipe.name}: resumed at step ${event.step} (epoch ${event.epoch + 1})`);
        if (event.type !== 'epoch' || !event.validation) return;
        times[event.epoch] = { accuracy: event.validation.accuracy, seconds: event.seconds };
        if (timesFile) {
          // Whole or not at all: a kill mid-write must not lose the earlier epochs' times.
          writeFileSync(`${timesFile}.partial`, JSON.stringify(times));
          renameSync(`${timesFile}.partial`, timesFile);
        }
        const total = Object.values(times).reduce((sum, epoch) => sum + epoch.seconds, 0);
        console.log(
          `  ${recipe.name}: epoch ${event.epoch + 1}, validation ${(event.validation.accuracy * 100).toFixed(2)}% at ${total.toFixed(0)} s`,
        );
      },
    },
  );
  process.off('SIGINT', onInterrupt);
  model.dispose();
  if (result.status === 'aborted') {
    console.log(`interrupted: run the same command to resume from ${directory ?? 'the start'}`);
    process.exit(130);
  }
  const reached = new Map<number, number>();
  let seconds = 0;
  let best = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const ended = times[epoch];
    if (!ended) break;
    seconds += ended.seconds;
    best = Math.max(best, ended.accuracy);
    for (const threshold of THRESHOLDS)
      if (ended.accuracy >= threshold && !reached.has(threshold)) reached.set(threshold, seconds);
  }
  return { reached, best };
}

/** The epochs' times an earlier process kept in `file`; none when it has not written it yet. */
function readTimes(file: string): EpochTimes {
  mkdirSync(dirname(file), { recursive: true });
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as EpochTimes) : {};
}

const results = [];
for (const recipe of [ourRecipe, PROTOTYPE]) results.push(await timeToAccuracy(recipe));
const [ours, baseline] = results as [RunResult, RunResult];
// A threshold not crossed says how close the run came, so "not reached" is never mistaken for "not run".
const cell = (seconds: number | undefined, run: RunResult) =>
  seconds === undefined
    ? `not in ${epochs} epochs (best ${(run.best * 100).toFixed(2)}%)`
    : `${(seconds / 60).toFixed(1)} min`;
console.log('\nvalidation accuracy | imgcls recipe | prototype recipe | baseline / ours');
for (const threshold of THRESHOLDS) {
  const mine = ours.reached.get(threshold);
  const theirs = baseline.reached.get(threshold);
  const ratio = mine !== undefined && theirs !== undefined ? `${(theirs / mine).toFixed(2)}×` : '—';
  console.log(
    `${(threshold * 100).toFixed(0)}% | ${cell(mine, ours)} | ${cell(theirs, baseline)} | ${ratio}`,
  );
}
