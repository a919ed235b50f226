import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ClassifierInfo, loadClassifier } from '@imgcls/classifier';
import {
  type ClassificationReport,
  confusionMatrixSvg,
  type EvaluationResult,
  mapProbabilities,
  type Predictor,
  perClassF1Svg,
  reliabilityDiagramSvg,
} from '@imgcls/metrics';
import { alignLabels, type LabelAlignment, parseLabelsFile } from '@imgcls/models';
import { modelDirectory, modelSizeOnDisk } from '@imgcls/models/node';
import type { DecodedImage, TestTimeAugmentation } from '@imgcls/preprocess';
import sharp from 'sharp';
import { startBackend } from './backend';
import { UsageError } from './errors';
import { modelReference } from './model-store';

/** A classifier wrapped as a metrics `Predictor` whose probabilities are over the dataset's classes. */
export interface LoadedPredictor {
  readonly predictor: Predictor<DecodedImage[]>;
  readonly alignment: LabelAlignment;
  readonly info: ClassifierInfo;
  /** Where the weights come from, as metadata.json says (URL, file, training command). */
  readonly source?: string;
  /**
   * Mean share of the model's probability that fell on classes matched to the dataset's, over the images
   * predicted so far (1 when the labels are the dataset's classes; low for a zero-shot model unsure
   * between classes the dataset lacks).
   */
  meanMappedMass(): number;
  dispose(): void;
}

/** Options of {@link loadPredictor}. */
export interface PredictorOptions {
  /** Labels file for a `.tflite` model. */
  readonly labelsFile?: string;
  /** Test-time augmentation; default: what the model's metadata declares. */
  readonly testTimeAugmentation?: TestTimeAugmentation | 'none';
}

/**
 * Bytes of a loaded model on disk: model.json plus its weight shards (or the .tflite file) when it was
 * read from a folder, the models folder or an installed package; undefined for a download.
 */
export async function modelBytesOnDisk(
  info: Pick<ClassifierInfo, 'origin' | 'source'>,
): Promise<number | undefined> {
  if (info.source !== 'path' && info.source !== 'models-folder' && info.source !== 'package')
    return undefined;
  if (/\.tflite$/i.test(info.origin)) return (await stat(info.origin)).size;
  return (await modelSizeOnDisk(await modelDirectory(info.origin))).totalBytes;
}

/**
 * Loads a model (id, folder, URL or .tflite) and wraps it for evaluation on a dataset with the given
 * classes: its probabilities are matched to the dataset's classes by name, or through the documented
 * ImageNet → CIFAR-10 mapping for an ImageNet model on CIFAR-10 (see `alignLabels` in @imgcls/models).
 */
export async function loadPredictor(
  reference: string,
  classes: readonly string[],
  options: PredictorOptions = {},
): Promise<LoadedPredictor> {
  if (/\.tflite$/i.test(reference) && !options.labelsFile)
    throw new UsageError(
      `${reference} carries no class names`,
      'pass its labels file with --labels (one class per line)',
    );
  const labels = options.labelsFile
    ? parseLabelsFile(
        await readFile(options.labelsFile, 'utf8').catch(() => {
          throw new UsageError(`cannot read ${options.labelsFile}`, 'check the --labels path');
        }),
      )
    : undefined;
  await startBackend();
  const classifier = await loadClassifier(modelReference(reference), {
    ...(labels ? { labels } : {}),
    ...(options.testTimeAugmentation ? { testTimeAugmentation: options.testTimeAugmentation } : {}),
  });
  try {
    const alignment = alignLabels(classifier.metadata.labels, classes);
    const info = classifier.info();
    const sizeOnDiskBytes = await modelBytesOnDisk(info).catch(() => undefined);
    const views = info.testTimeAugmentation ? ` (${info.testTimeAugmentation} TTA)` : '';
    const name = `${info.id}${alignment.kind === 'imagenet-to-cifar10' ? ' (zero-shot)' : ''}${views}`;
    let mappedMassSum = 0;
    let predicted = 0;
    const predictor: Predictor<DecodedImage[]> = {
      name,
      labels: classes,
      ...(info.parameters !== undefined ? { parameters: info.parameters } : {}),
      ...(sizeOnDiskBytes !== undefined ? { sizeOnDiskBytes } : {}),
      predict: async (images) => {
        const mapped = mapProbabilities(
          await classifier.probabilities(images),
          alignment.mapping,
          classes.length,
        );
        for (const mass of mapped.mappedMass) mappedMassSum += mass;
        predicted += mapped.mappedMass.length;
        return { values: mapped.values, numClasses: mapped.numClasses };
      },
    };
    const { source } = classifier.metadata;
    return {
      predictor,
      alignment,
      info,
      ...(source ? { source } : {}),
      meanMappedMass: () => (predicted === 0 ? 1 : mappedMassSum / predicted),
      dispose: () => classifier.dispose(),
    };
  } catch (error) {
    classifier.dispose();
    throw error;
  }
}

/** The scikit-learn-style report of an evaluation, for `formatReportText` / `formatReportMarkdown`. */
export function reportOf(
  evaluation: EvaluationResult,
  classes: readonly string[],
): ClassificationReport {
  return {
    classes: evaluation.scores.perClass.map((scores, k) => ({
      label: classes[k] ?? `class ${k}`,
      ...scores,
    })),
    accuracy: evaluation.accuracy,
    macro: evaluation.scores.macro,
    weighted: evaluation.scores.weighted,
    support: evaluation.examples,
  };
}

/** The three evaluation charts as SVG documents, keyed by file stem. */
export function evaluationCharts(
  evaluation: EvaluationResult,
  classes: readonly string[],
): Record<'confusion-matrix' | 'reliability' | 'per-class-f1', string> {
  return {
    'confusion-matrix': confusionMatrixSvg(
      {
        numClasses: evaluation.confusion.numClasses,
        counts: Int32Array.from(evaluation.confusion.counts),
      },
      { labels: classes, title: `${evaluation.name}: confusion matrix` },
    ),
    reliability: reliabilityDiagramSvg(evaluation.calibration, {
      title: `${evaluation.name}: reliability`,
    }),
    'per-class-f1': perClassF1Svg(evaluation.scores.perClass, {
      labels: classes,
      title: `${evaluation.name}: F1 per class`,
    }),
  };
}

/**
 * Writes an evaluation's charts into a folder as `<prefix><chart>.svg` and, rendered by sharp,
 * `<prefix><chart>.png`. Returns the file names written.
 */
export async function writeCharts(
  directory: string,
  charts: Record<string, string>,
  prefix = '',
  png = true,
): Promise<string[]> {
  const written: string[] = [];
  for (const [stem, svg] of Object.entries(charts)) {
    await writeFile(join(directory, `${prefix}${stem}.svg`), svg);
    written.push(`${prefix}${stem}.svg`);
    if (png) {
      await sharp(Buffer.from(svg), { density: 144 })
        .png()
        .toFile(join(directory, `${prefix}${stem}.png`));
      written.push(`${prefix}${stem}.png`);
    }
  }
  return written;
}

/** A file-name-safe form of a model name: `mobilenet-v2 (zero-shot)` → `mobilenet-v2-zero-shot`. */
export function slug(name: string): string {
  return name
    .toLowerCase()
    .replaceAll(/[^a-z0-9]+/g, '-')
    .replaceAll(/^-|-$/g, '');
}

/** Percentage with two decimals. */
export const percent = (value: number) => `${(value * 100).toFixed(2)}%`;

/** The evaluation's numbers that are not in the classification report, as text lines. */
export function summaryLines(evaluation: EvaluationResult, classes: readonly string[]): string[] {
  const { correct, wrong } = evaluation.confidence;
  const stats = (group: typeof correct) =>
    group.count === 0
      ? 'none'
      : `mean ${group.mean.toFixed(3)} ± ${group.standardDeviation.toFixed(3)} over ${group.count}`;
  const name = (k: number) => classes[k] ?? String(k);
  return [
    `accuracy ${percent(evaluation.accuracy)}${Object.entries(evaluation.topK)
      .filter(([k]) => k !== 'top1')
      .map(([k, value]) => `, ${k.replace('top', 'top-')} ${percent(value)}`)
      .join(
        '',
      )}, balanced accuracy ${percent(evaluation.balancedAccuracy)}, Cohen's kappa ${evaluation.cohenKappa.toFixed(3)}, log loss ${evaluation.logLoss.toFixed(3)}`,
    `calibration: ECE ${evaluation.calibration.ece.toFixed(3)}, max calibration error ${evaluation.calibration.maxCalibrationError.toFixed(3)}`,
    `confidence when right: ${stats(correct)}; when wrong: ${stats(wrong)}`,
    `latency per image: p50 ${evaluation.latencyMs.p50.toFixed(2)} ms, p95 ${evaluation.latencyMs.p95.toFixed(2)} ms (batch time / batch size, preprocessing included)`,
    `most confused: ${
      evaluation.mostConfused
        .slice(0, 5)
        .map(
          (pair) =>
            `${name(pair.trueClass)} → ${name(pair.predictedClass)} ${pair.count} (${percent(pair.rate)})`,
        )
        .join(', ') || 'none'
    }`,
    'worst examples (lowest probability on the true class):',
    ...evaluation.worst.map(
      (example) =>
        `  ${example.id}: ${name(example.trueClass)} at ${example.trueClassProbability.toFixed(4)}, predicted ${name(example.predictedClass)} at ${example.confidence.toFixed(3)}`,
    ),
  ];
}
