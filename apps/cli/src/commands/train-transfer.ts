import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { accuracy } from '@imgcls/metrics';
import type { ModelMetadata } from '@imgcls/models';
import { directoryHandler, readMetadata, writeMetadata } from '@imgcls/models/node';
import { ImgclsError } from '@imgcls/preprocess';
import {
  AdamW,
  type Augmentation,
  cosine,
  featureData,
  frozenFeatureData,
  splitAtLayer,
  splitIndices,
  type TrainingData,
  train,
  transferModel,
  unfreezeFrom,
} from '@imgcls/train';
import * as tfl from '@tensorflow/tfjs-layers';
import { stratifiedSubset } from '../dataset';
import { EXIT, UsageError } from '../errors';
import { localModelFolder } from '../model-store';
import type { Terminal } from '../terminal';
import { type Dataset, number, predictAll, reportTraining, testModel } from '../training-data';

/** What transfer learning takes from `imgcls train`'s flags. */
export interface TransferSettings {
  /** A registry id or folder name in the models folder, or a folder of a TF.js layers model with metadata.json. */
  readonly backbone: string;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly labelSmoothing: number;
  readonly validationSplit: number;
  readonly seed: number;
  /** Stratified subset sizes of the training and test splits (all images when absent). */
  readonly limit?: number;
  readonly testLimit?: number;
  /** Fine-tuning after the head: from this backbone layer on, for `fineTuneEpochs`, at a tenth of the rate. */
  readonly fineTuneFrom?: string;
  readonly fineTuneEpochs: number;
  /** Augmentation for fine-tuning (the head trains on features computed once, unaugmented). */
  readonly augmentation?: Augmentation;
  /** The command line, for metadata and the model card. */
  readonly command: string;
}

const IMPORT_HINT =
  'import MobileNetV2 first: imgcls models import mobilenet_v2_1.0_224_quant.tflite --labels imagenet_labels.txt --id mobilenet-v2';

async function loadBackbone(
  reference: string,
): Promise<{ model: tfl.LayersModel; metadata: ModelMetadata; directory: string }> {
  const directory = await localModelFolder(reference, 'A backbone', IMPORT_HINT).then(
    (local) => local.folder,
    (error: unknown) => {
      // Neither a folder, nor a model on disk: the same advice either way, as a usage error.
      if (ImgclsError.isInstance(error, 'UNKNOWN_MODEL'))
        throw new UsageError(
          `no backbone model "${reference}": not a folder, a registered id or a folder in the models folder`,
          IMPORT_HINT,
        );
      if (ImgclsError.isInstance(error, 'MODEL_NOT_LOCAL'))
        throw new UsageError(error.message, IMPORT_HINT);
      throw error;
    },
  );
  const metadata = await readMetadata(directory);
  if (!metadata)
    throw new UsageError(`${directory} has no metadata.json`, 'use a model folder imgcls wrote');
  if (metadata.format !== 'layers-model')
    throw new UsageError(
      `the backbone must be a TF.js layers model, ${directory} holds a ${metadata.format}`,
      IMPORT_HINT,
    );
  return { model: await tfl.loadLayersModel(directoryHandler(directory)), metadata, directory };
}

/**
 * Transfer learning for `imgcls train --arch mobilenetv2`: the pretrained backbone's features are computed
 * once per image, a new head is trained on them, then (optionally) the top of the backbone is fine-tuned
 * through the whole model. Writes an ordinary model folder with metadata, history and test confusion.
 */
export async function trainTransfer(
  settings: TransferSettings,
  dataset: Dataset,
  directory: string,
  out: Terminal,
  started: number,
): Promise<void> {
  const backbone = await loadBackbone(settings.backbone);
  const { preset } = backbone.metadata;
  const classes = dataset.classes.length;
  const transfer = transferModel(backbone.model, {
    classes,
    seed: settings.seed,
    ...(backbone.metadata.embeddingLayer ? { featureLayer: backbone.metadata.embeddingLayer } : {}),
  });
  const pool =
    settings.limit === undefined
      ? Array.from({ length: dataset.count }, (_, index) => index)
      : stratifiedSubset(Array.from(dataset.labels), settings.limit, settings.seed);
  const split = splitIndices(pool.length, settings.validationSplit, settings.seed);
  const pick = (positions: readonly number[]) => positions.map((at) => pool[at] as number);
  const trainImages = dataset.subset(pick(split.train), preset);
  const validationImages =
    split.validation.length > 0 ? dataset.subset(pick(split.validation), preset) : undefined;
  out.err(
    `${backbone.metadata.id} backbone (${backbone.model.countParams().toLocaleString('en-US')} parameters, ${preset.height}x${preset.width} input) with a new ${classes}-class head: ${trainImages.size} training and ${validationImages?.size ?? 0} validation images`,
  );

  const features = async (data: TrainingData, what: string) => {
    const result = await featureData(transfer.features, data, {
      batchSize: 32,
      onProgress: (done) =>
        out.progress(done / data.size, `${what} features: ${done}/${data.size} images`),
    });
    out.endProgress();
    return result;
  };
  const trainFeatures = await features(trainImages, 'training');
  const validationFeatures = validationImages
    ? await features(validationImages, 'validation')
    : undefined;

  await mkdir(directory, { recursive: true });
  // The head's first epoch replaces the lines an earlier run left (see reportTraining).
  const historyFile = join(directory, 'history.jsonl');
  const base = {
    numClasses: classes,
    labelSmoothing: settings.labelSmoothing,
    seed: settings.seed,
  };
  const headSteps = settings.epochs * Math.ceil(trainFeatures.size / settings.batchSize);
  await train(
    {
      ...base,
      model: transfer.head,
      data: trainFeatures,
      ...(validationFeatures ? { validation: validationFeatures } : {}),
      epochs: settings.epochs,
      batchSize: settings.batchSize,
      optimizer: new AdamW({ weightDecay: 1e-4 }),
      schedule: cosine(settings.learningRate, headSteps),
    },
    { onEvent: reportTraining(out, { phase: 'head', epochs: settings.epochs, historyFile }) },
  );
  out.endProgress();

  // The fine-tuned model's validation accuracy, as the loop measured it after its last epoch.
  let fineTunedValidation: number | undefined;
  // Fine-tuning time spent by earlier processes, when this one resumed it from their checkpoint.
  let earlierSeconds = 0;
  if (settings.fineTuneFrom) {
    const trainable = unfreezeFrom(transfer.model, settings.fineTuneFrom);
    out.err(`fine-tuning from ${settings.fineTuneFrom}: ${trainable} trainable weight tensors`);
    // Only the layers from the cut on run under the gradient tape; the frozen part is one fused
    // inference pass per batch (the whole MobileNetV2-224 under the tape exhausted wasm's memory).
    const parts = splitAtLayer(transfer.model, settings.fineTuneFrom);
    const data = frozenFeatureData(
      parts.frozen,
      settings.augmentation
        ? dataset.subset(pick(split.train), preset, settings.augmentation)
        : trainImages,
    );
    const validation = validationImages
      ? frozenFeatureData(parts.frozen, validationImages)
      : undefined;
    const controller = new AbortController();
    const onInterrupt = () => controller.abort();
    process.once('SIGINT', onInterrupt);
    const fineTuneStarted = Date.now();
    const result = await train(
      {
        ...base,
        model: parts.trainable,
        data,
        ...(validation ? { validation } : {}),
        epochs: settings.fineTuneEpochs,
        batchSize: settings.batchSize,
        optimizer: new AdamW({ weightDecay: 1e-4 }),
        schedule: cosine(
          settings.learningRate / 10,
          settings.fineTuneEpochs * Math.ceil(data.size / settings.batchSize),
        ),
        checkpointDir: join(directory, 'checkpoint'),
        checkpointEvery: 50,
      },
      {
        signal: controller.signal,
        onEvent: reportTraining(out, {
          phase: 'fine-tune',
          epochs: settings.fineTuneEpochs,
          historyFile,
          checkpointDir: join(directory, 'checkpoint'),
          epochOffset: settings.epochs,
        }),
      },
    );
    process.off('SIGINT', onInterrupt);
    earlierSeconds = Math.max(0, result.seconds - (Date.now() - fineTuneStarted) / 1000);
    fineTunedValidation = result.epochs.at(-1)?.validation?.accuracy;
    data.dispose();
    validation?.dispose();
    out.endProgress();
    if (result.status === 'aborted') {
      out.err(
        `interrupted: fine-tuning checkpoint saved in ${join(directory, 'checkpoint')}; run the same command to compute the head again and resume fine-tuning`,
      );
      process.exitCode = EXIT.interrupted;
      return;
    }
  }

  const metrics: Record<string, number> = {
    epochs: settings.epochs + (settings.fineTuneFrom ? settings.fineTuneEpochs : 0),
    trainingImages: trainImages.size,
  };
  if (fineTunedValidation !== undefined) metrics.validationAccuracy = fineTunedValidation;
  else if (validationFeatures) {
    // After fine-tuning (resumed with no epoch left) the cached features are stale: use the whole model.
    const { truth, predicted } =
      settings.fineTuneFrom && validationImages
        ? await predictAll(transfer.model, validationImages)
        : await predictAll(transfer.head, validationFeatures);
    metrics.validationAccuracy = accuracy(truth, predicted);
  }
  if (dataset.test && dataset.testLabels) {
    const testIndices =
      settings.testLimit === undefined
        ? undefined
        : stratifiedSubset(Array.from(dataset.testLabels), settings.testLimit, settings.seed);
    const testData = dataset.test(preset, testIndices);
    out.err(out.style('dim', `testing on ${testData.size} test images…`));
    metrics.testAccuracy = (
      await testModel(transfer.model, testData, dataset.classes, directory, out)
    ).accuracy;
    metrics.testImages = testData.size;
  }
  metrics.trainingSeconds = Math.round((Date.now() - started) / 1000 + earlierSeconds);
  await transfer.model.save(directoryHandler(directory));
  const id = directory.split(/[\\/]/).filter(Boolean).at(-1) as string;
  const metadata: ModelMetadata = {
    schemaVersion: 1,
    id,
    name: `${backbone.metadata.name} with a new head for ${classes} classes (transfer learning by imgcls)`,
    version: new Date().toISOString().slice(0, 10),
    format: 'layers-model',
    architecture: `${backbone.metadata.architecture ?? backbone.metadata.id} + transfer head`,
    labels: [...dataset.classes],
    output: 'probabilities',
    preset,
    embeddingLayer: transfer.embeddingLayer,
    ...(backbone.metadata.license ? { license: backbone.metadata.license } : {}),
    source: settings.command,
    metrics,
  };
  await writeMetadata(directory, metadata);
  transfer.model.dispose();
  out.out(
    `saved ${directory}${metrics.testAccuracy !== undefined ? `: test accuracy ${(metrics.testAccuracy * 100).toFixed(2)}%` : ''}`,
  );
}

/** Parses the transfer-only flags of `imgcls train`. */
export function transferLimits(flags: {
  readonly limit?: string;
  readonly testLimit?: string;
  readonly fineTuneEpochs: string;
}): Pick<TransferSettings, 'limit' | 'testLimit' | 'fineTuneEpochs'> {
  return {
    ...(flags.limit ? { limit: number(flags.limit, '--limit', 10, 10_000_000) } : {}),
    ...(flags.testLimit
      ? { testLimit: number(flags.testLimit, '--test-limit', 10, 10_000_000) }
      : {}),
    fineTuneEpochs: number(flags.fineTuneEpochs, '--fine-tune-epochs', 1, 1000),
  };
}
