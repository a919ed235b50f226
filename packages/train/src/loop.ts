import { ImgclsError, InvalidArgumentError } from '@imgcls/preprocess/errors';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  type CheckpointSettings,
  loadCheckpoint,
  saveCheckpoint,
  type TrainingPosition,
} from './checkpoint';
import { clipByGlobalNorm, globalNorm } from './clip';
import type { Lookahead } from './lookahead';
import type { Optimizer } from './optimizers';
import { epochOrder } from './order';
import type { Schedule } from './schedules';

/**
 * One batch: model-ready images `[n, h, w, 3]` and either integer labels `[n]` or class probabilities
 * `[n, numClasses]` (soft labels, as mixup and CutMix make).
 */
export interface TrainingBatch {
  readonly images: tf.Tensor4D;
  readonly labels: tf.Tensor1D | tf.Tensor2D;
}

/** Labelled examples addressable by index: the loop asks for the batches it needs, in its own order. */
export interface TrainingData {
  readonly size: number;
  /**
   * The batch of these example indices; the loop disposes its tensors. `step` is the optimizer step the
   * batch is for (absent outside training): augmentation is seeded by it, so a resumed run draws exactly
   * what the uninterrupted run drew. `epoch` (0-based, with `step`) drives alternating flips.
   */
  batch(indices: readonly number[], step?: number, epoch?: number): TrainingBatch;
  /**
   * Streaming datasets: reads the images of these indices so that `batch(indices)` can build them. The
   * loop awaits it before `batch`, and calls it without waiting for the next batch, as a prefetch.
   */
  load?(indices: readonly number[]): Promise<void>;
  /**
   * How batches are made (augmentation…), as JSON values: recorded in checkpoints, and a run whose data
   * settings differ refuses to resume from them.
   */
  readonly settings?: CheckpointSettings;
}

/** Everything that defines a training run. */
export interface TrainConfig {
  readonly model: tfl.LayersModel;
  readonly data: TrainingData;
  /** Evaluated after every epoch (accuracy, loss); drives early stopping. */
  readonly validation?: TrainingData;
  readonly numClasses: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: Optimizer;
  /** Learning rate by optimizer step. */
  readonly schedule: Schedule;
  /**
   * Multiplies the learning rate (not the weight decay) of each trainable weight, by its name (e.g.
   * `group1_bn1/beta`): airbench trains batch-norm biases 64× faster. Default 1 for every weight.
   */
  readonly rateScale?: (weightName: string) => number;
  /** Whether the model ends in softmax (default) or outputs logits. */
  readonly modelOutput?: 'probabilities' | 'logits';
  /** Label smoothing ε: targets become (1 − ε)·one-hot + ε/K. */
  readonly labelSmoothing?: number;
  /** Clip gradients to this global L2 norm (see {@link clipByGlobalNorm}); no clipping when absent. */
  readonly clipNorm?: number;
  /** Seed of the data order. */
  readonly seed?: number;
  /** Directory for checkpoints; training resumes from it when it holds one of the same configuration. */
  readonly checkpointDir?: string;
  /** Also checkpoint every this many steps (always at epoch end). */
  readonly checkpointEvery?: number;
  /** Lookahead: a moving average of the weights they keep returning to (see {@link Lookahead}). */
  readonly lookahead?: Lookahead;
  /** Stop when validation accuracy has not improved by `minDelta` for `patience` epochs. */
  readonly earlyStopping?: { readonly patience: number; readonly minDelta?: number };
  /**
   * More settings that must not change on resume (learning rate, optimizer…, as JSON values), recorded in
   * checkpoints beside the loop's own (clipping, label smoothing) and the data's.
   */
  readonly settings?: CheckpointSettings;
}

/** Progress reported while training. */
export type TrainingEvent =
  | {
      readonly type: 'step';
      readonly epoch: number;
      readonly step: number;
      readonly totalSteps: number;
      readonly loss: number;
      /** Share of this step's batch whose top class is its (hardest) label, under training-mode augmentation and dropout. */
      readonly accuracy: number;
      readonly learningRate: number;
      /** Global L2 norm of this step's gradients before clipping (see {@link globalNorm}). */
      readonly gradientNorm: number;
      readonly imagesPerSecond: number;
      readonly etaSeconds: number;
    }
  | {
      readonly type: 'epoch';
      readonly epoch: number;
      readonly loss: number;
      readonly validation?: { accuracy: number; loss: number };
      /**
       * Wall time of the epoch (steps, checkpoints, validation); an epoch resumed after an interruption also
       * counts the part its earlier processes ran, up to the checkpoint it resumed from.
       */
      readonly seconds: number;
    }
  | { readonly type: 'checkpoint'; readonly step: number; readonly directory: string }
  | { readonly type: 'resumed'; readonly step: number; readonly epoch: number };

/** How a run ended, and the per-epoch history. */
export interface TrainingResult {
  readonly status: 'completed' | 'aborted' | 'early-stopped';
  readonly step: number;
  /**
   * Wall time of training (steps, validation, checkpoints) summed over this process and every process it
   * resumed from, each counted up to its last checkpoint: the work that produced the final weights.
   */
  readonly seconds: number;
  readonly epochs: ReadonlyArray<{
    epoch: number;
    loss: number;
    validation?: { accuracy: number; loss: number };
  }>;
}

/** Training stopped because the loss became NaN or infinite; the last checkpoint is untouched. */
export class NonFiniteLossError extends ImgclsError {
  constructor(
    readonly step: number,
    readonly loss: number,
  ) {
    super(
      'NON_FINITE_LOSS',
      `The loss became ${loss} at step ${step}: training stopped and the last good checkpoint was kept. Lower the learning rate, add gradient clipping, or check the data for NaN.`,
    );
  }
}

/**
 * Training stopped because a step's gradients held a NaN or infinity while its loss was finite (a
 * layer whose derivative diverges, such as a square root at 0); they were not applied, and the last
 * checkpoint is untouched.
 */
export class NonFiniteGradientError extends ImgclsError {
  constructor(
    readonly step: number,
    readonly norm: number,
  ) {
    super(
      'NON_FINITE_GRADIENT',
      `The gradients' global norm became ${norm} at step ${step} (the loss was finite): training stopped before applying them and the last good checkpoint was kept. Look for an operation whose derivative diverges (a square root or logarithm at 0), or lower the learning rate.`,
    );
  }
}

/** A fingerprint of what must not change between a checkpoint and its resumption. */
function configKey(config: TrainConfig): string {
  return JSON.stringify({
    // Shapes, not names: layer names are generated per model instance and differ between processes.
    weights: config.model.weights.map((weight) => weight.shape),
    size: config.data.size,
    batchSize: config.batchSize,
    epochs: config.epochs,
    seed: config.seed ?? 0,
    numClasses: config.numClasses,
  });
}

/** What is compared by name on resume: the loop's own settings, the data's, and the caller's. */
function runSettings(config: TrainConfig): CheckpointSettings {
  return {
    clipNorm: config.clipNorm ?? null,
    labelSmoothing: config.labelSmoothing ?? 0,
    modelOutput: config.modelOutput ?? 'probabilities',
    data: config.data.settings ?? null,
    // Only when used: checkpoints written before these options existed still resume.
    ...(config.rateScale ? { rateScales: rateScales(config) } : {}),
    ...(config.lookahead ? { lookahead: config.lookahead.settings() } : {}),
    ...config.settings,
  };
}

/** The learning-rate multiplier of each trainable weight, in the order the optimizer gets them. */
function rateScales(config: TrainConfig): number[] {
  return config.model.trainableWeights.map(
    (weight) => config.rateScale?.(weight.originalName) ?? 1,
  );
}

function crossEntropy(
  output: tf.Tensor,
  labels: tf.Tensor1D | tf.Tensor2D,
  config: Pick<TrainConfig, 'numClasses' | 'modelOutput' | 'labelSmoothing'>,
): tf.Scalar {
  return tf.tidy(() => {
    const smoothing = config.labelSmoothing ?? 0;
    // Soft labels (mixup, CutMix) are already class probabilities; smoothing applies on top of them.
    let targets =
      labels.rank === 2
        ? tf.cast(labels, 'float32')
        : tf.cast(tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, config.numClasses), 'float32');
    if (smoothing > 0)
      targets = tf.add(tf.mul(targets, 1 - smoothing), smoothing / config.numClasses);
    // log(p + ε), not log(clip(p)): clipping would turn a NaN output into a finite loss and hide it.
    const logProbabilities =
      config.modelOutput === 'logits' ? tf.logSoftmax(output) : tf.log(tf.add(output, 1e-7));
    return tf.neg(tf.mean(tf.sum(tf.mul(targets, logProbabilities), -1))) as tf.Scalar;
  });
}

function checkConfig(config: TrainConfig): void {
  const positive = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1)
      throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}.`);
  };
  positive('epochs', config.epochs);
  positive('batchSize', config.batchSize);
  positive('numClasses', config.numClasses);
  if (config.data.size < 1) throw new InvalidArgumentError('The training data is empty.');
  const smoothing = config.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing < 1))
    throw new InvalidArgumentError(`labelSmoothing must be in [0, 1), got ${smoothing}.`);
  if (config.clipNorm !== undefined && !(config.clipNorm > 0))
    throw new InvalidArgumentError(`clipNorm must be positive, got ${config.clipNorm}.`);
}

type EvaluationConfig = Pick<TrainConfig, 'numClasses' | 'modelOutput' | 'batchSize'>;

/** Consecutive example indices from `start`, at most one batch. */
function batchFrom(start: number, size: number, batchSize: number): number[] {
  return Array.from(
    { length: Math.max(0, Math.min(batchSize, size - start)) },
    (_, offset) => start + offset,
  );
}

/** Correct predictions and summed loss of one batch, in inference mode; disposes the batch. */
function scoreBatch(
  model: tfl.LayersModel,
  batch: TrainingBatch,
  config: EvaluationConfig,
): { correct: number; lossSum: number } {
  const { images, labels } = batch;
  const [hits, loss] = tf.tidy(() => {
    const output = model.apply(images, { training: false }) as tf.Tensor;
    const batchLoss = crossEntropy(output, labels, { ...config, labelSmoothing: 0 });
    const classes = labels.rank === 2 ? tf.argMax(labels, -1) : labels;
    return [
      tf.sum(tf.cast(tf.equal(tf.argMax(output, -1), classes), 'int32')),
      tf.mul(batchLoss, images.shape[0]),
    ];
  });
  const score = { correct: hits.dataSync()[0] as number, lossSum: loss.dataSync()[0] as number };
  tf.dispose([hits, loss, images, labels]);
  return score;
}

/**
 * Accuracy and mean loss of the model (inference mode) over a dataset whose batches are ready at once
 * (in memory); use {@link evaluateDataset} for streaming datasets.
 */
export function evaluateData(
  model: tfl.LayersModel,
  data: TrainingData,
  config: EvaluationConfig,
): { accuracy: number; loss: number } {
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < data.size; start += config.batchSize) {
    const score = scoreBatch(
      model,
      data.batch(batchFrom(start, data.size, config.batchSize)),
      config,
    );
    correct += score.correct;
    lossSum += score.lossSum;
  }
  return { accuracy: correct / data.size, loss: lossSum / data.size };
}

/**
 * {@link evaluateData} for any dataset, streaming ones included: each batch is loaded (and the next one
 * prefetched) before it is scored.
 */
export async function evaluateDataset(
  model: tfl.LayersModel,
  data: TrainingData,
  config: EvaluationConfig,
): Promise<{ accuracy: number; loss: number }> {
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < data.size; start += config.batchSize) {
    const indices = batchFrom(start, data.size, config.batchSize);
    await data.load?.(indices);
    const next = batchFrom(start + config.batchSize, data.size, config.batchSize);
    if (next.length > 0) prefetch(data, next);
    const score = scoreBatch(model, data.batch(indices), config);
    correct += score.correct;
    lossSum += score.lossSum;
  }
  return { accuracy: correct / data.size, loss: lossSum / data.size };
}

/** Starts loading a batch without waiting; a failure surfaces when the batch is awaited for real. */
function prefetch(data: TrainingData, indices: readonly number[]): void {
  data.load?.(indices).catch(() => undefined);
}

/**
 * Trains a layers model with a custom loop: a seeded data order per epoch, the given optimizer and
 * learning-rate schedule, label smoothing and gradient clipping, checkpoints (model weights including
 * batch-norm statistics, optimizer state and position) every `checkpointEvery` steps and at every epoch
 * end, exact resumption from `checkpointDir`, early stopping on validation accuracy, and a guard that stops
 * on a non-finite loss. `signal` stops cleanly after the current step, with a checkpoint.
 *
 * @throws NonFiniteLossError, NonFiniteGradientError, CheckpointError, InvalidArgumentError.
 */
export async function train(
  config: TrainConfig,
  options: {
    signal?: AbortSignal;
    onEvent?: (event: TrainingEvent) => void;
    now?: () => number;
  } = {},
): Promise<TrainingResult> {
  checkConfig(config);
  const now = options.now ?? (() => performance.now());
  const key = configKey(config);
  const settings = runSettings(config);
  const { model, data, optimizer } = config;
  const stepsPerEpoch = Math.ceil(data.size / config.batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const trainable = model.trainableWeights.map(
    (weight) => (weight as unknown as { val: tf.Variable }).val,
  );
  const allWeights = model.weights;
  const scales = config.rateScale ? rateScales(config) : undefined;

  let position: TrainingPosition = { step: 0, epoch: 0, batchInEpoch: 0 };
  if (config.checkpointDir) {
    const saved = await loadCheckpoint(config.checkpointDir, key, settings);
    if (saved) {
      const optimizerState = new Map<string, tf.Tensor>();
      for (const [name, tensor] of saved.tensors) {
        if (name.startsWith('optimizer:'))
          optimizerState.set(name.slice('optimizer:'.length), tensor);
      }
      allWeights.forEach((weight, index) => {
        const value = saved.tensors.get(`model:${index}`);
        if (value) weight.write(value);
      });
      optimizer.restore(optimizerState);
      const average = allWeights
        .map((_, index) => saved.tensors.get(`lookahead:${index}`))
        .filter((tensor): tensor is tf.Tensor => tensor !== undefined);
      config.lookahead?.restore(average);
      tf.dispose([...saved.tensors.values()]);
      position = saved.position;
      options.onEvent?.({ type: 'resumed', step: position.step, epoch: position.epoch });
    }
  }

  const checkpoint = async (at: TrainingPosition) => {
    if (!config.checkpointDir) return;
    const tensors = new Map<string, tf.Tensor>();
    // By position, like the optimizer's slots: weight names differ between builds of the same model.
    allWeights.forEach((weight, index) => {
      tensors.set(`model:${index}`, weight.read());
    });
    const optimizerState = optimizer.state();
    for (const [name, tensor] of optimizerState) tensors.set(`optimizer:${name}`, tensor);
    config.lookahead?.state().forEach((tensor, index) => {
      tensors.set(`lookahead:${index}`, tensor);
    });
    await saveCheckpoint(config.checkpointDir, at, key, tensors, settings);
    // state() makes a fresh step-count scalar each call; the slots themselves belong to the optimizer.
    optimizerState.get('steps')?.dispose();
    options.onEvent?.({ type: 'checkpoint', step: at.step, directory: config.checkpointDir });
  };

  const history: Array<{
    epoch: number;
    loss: number;
    validation?: { accuracy: number; loss: number };
  }> = [];
  let { step } = position;
  let best = position.bestValidationAccuracy ?? Number.NEGATIVE_INFINITY;
  let stale = position.epochsWithoutImprovement ?? 0;
  const started = now();
  const stepAtStart = step;
  // Earlier processes' time up to the checkpoint resumed from; their steps after it were lost and redone here.
  const trainedSeconds = () => (position.seconds ?? 0) + (now() - started) / 1000;

  // When the epoch in progress began, in training time: a resumed epoch began in an earlier process.
  let epochStartedSeconds = position.epochStartedSeconds ?? position.seconds ?? 0;

  for (let epoch = position.epoch; epoch < config.epochs; epoch++) {
    const order = epochOrder(data.size, config.seed ?? 0, epoch);
    const firstBatch = epoch === position.epoch ? position.batchInEpoch : 0;
    let lossSum = 0;
    let lossCount = 0;
    for (let batchIndex = firstBatch; batchIndex < stepsPerEpoch; batchIndex++) {
      // Steps are synchronous work: yield once per step so signal handlers (Ctrl-C) and events run.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (options.signal?.aborted) {
        await checkpoint({
          step,
          epoch,
          batchInEpoch: batchIndex,
          bestValidationAccuracy: best,
          epochsWithoutImprovement: stale,
          seconds: trainedSeconds(),
          epochStartedSeconds,
        });
        return { status: 'aborted', step, seconds: trainedSeconds(), epochs: history };
      }
      const batchOf = (index: number) =>
        Array.from(
          order.subarray(
            index * config.batchSize,
            Math.min(data.size, (index + 1) * config.batchSize),
          ),
        );
      const indices = batchOf(batchIndex);
      await data.load?.(indices);
      if (batchIndex + 1 < stepsPerEpoch) prefetch(data, batchOf(batchIndex + 1));
      const { images, labels } = data.batch(indices, step, epoch);
      const learningRate = config.schedule(step);
      let hits: tf.Tensor | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const output = model.apply(images, { training: true }) as tf.Tensor;
        // Counted from the same forward pass; not part of the loss, so the gradients are unchanged.
        const truth = labels.rank === 2 ? tf.argMax(labels, -1) : labels;
        hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(output, -1), truth), 'int32')));
        return crossEntropy(output, labels, config);
      }, trainable);
      const loss = value.dataSync()[0] as number;
      const accuracy = ((hits as tf.Tensor).dataSync()[0] as number) / indices.length;
      (hits as tf.Tensor).dispose();
      if (!Number.isFinite(loss)) {
        tf.dispose([value, images, labels, ...Object.values(grads)]);
        throw new NonFiniteLossError(step, loss);
      }
      const ordered = trainable.map((variable) => grads[variable.name] as tf.Tensor);
      const gradientNorm = globalNorm(ordered);
      if (!Number.isFinite(gradientNorm)) {
        tf.dispose([value, images, labels, ...Object.values(grads)]);
        throw new NonFiniteGradientError(step, gradientNorm);
      }
      const clipped =
        config.clipNorm && gradientNorm > config.clipNorm
          ? clipByGlobalNorm(ordered, config.clipNorm, gradientNorm)
          : ordered;
      optimizer.apply(trainable, clipped, learningRate, scales);
      tf.dispose([
        value,
        images,
        labels,
        ...Object.values(grads),
        ...(clipped === ordered ? [] : clipped),
      ]);
      step++;
      const { lookahead } = config;
      if (lookahead && epoch >= lookahead.fromEpoch && step % lookahead.every === 0)
        lookahead.step(allWeights, step, totalSteps);
      lossSum += loss * indices.length;
      lossCount += indices.length;
      const seconds = (now() - started) / 1000;
      const imagesPerSecond = ((step - stepAtStart) * config.batchSize) / Math.max(seconds, 1e-9);
      options.onEvent?.({
        type: 'step',
        epoch,
        step,
        totalSteps,
        loss,
        accuracy,
        learningRate,
        gradientNorm,
        imagesPerSecond,
        etaSeconds: ((totalSteps - step) * config.batchSize) / Math.max(imagesPerSecond, 1e-9),
      });
      if (
        config.checkpointEvery &&
        step % config.checkpointEvery === 0 &&
        batchIndex + 1 < stepsPerEpoch
      ) {
        await checkpoint({
          step,
          epoch,
          batchInEpoch: batchIndex + 1,
          bestValidationAccuracy: best,
          epochsWithoutImprovement: stale,
          seconds: trainedSeconds(),
          epochStartedSeconds,
        });
      }
    }
    config.lookahead?.settle(allWeights);
    const validation = config.validation
      ? await evaluateDataset(model, config.validation, config)
      : undefined;
    const summary = {
      epoch,
      loss: lossSum / Math.max(1, lossCount),
      ...(validation ? { validation } : {}),
    };
    history.push(summary);
    const epochEndedSeconds = trainedSeconds();
    options.onEvent?.({
      type: 'epoch',
      ...summary,
      seconds: epochEndedSeconds - epochStartedSeconds,
    });
    if (validation && config.earlyStopping) {
      if (validation.accuracy > best + (config.earlyStopping.minDelta ?? 0)) {
        best = validation.accuracy;
        stale = 0;
      } else stale++;
    }
    await checkpoint({
      step,
      epoch: epoch + 1,
      batchInEpoch: 0,
      bestValidationAccuracy: best,
      epochsWithoutImprovement: stale,
      seconds: epochEndedSeconds,
      epochStartedSeconds: epochEndedSeconds,
    });
    epochStartedSeconds = epochEndedSeconds;
    if (config.earlyStopping && stale >= config.earlyStopping.patience)
      return { status: 'early-stopped', step, seconds: trainedSeconds(), epochs: history };
  }
  return { status: 'completed', step, seconds: trainedSeconds(), epochs: history };
}
