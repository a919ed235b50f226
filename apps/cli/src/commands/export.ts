import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { type BackendChoice, type ImageClassifier, loadClassifier } from '@imgcls/classifier';
import { argmax, type EvaluationResult, evaluate, type LabelledBatch } from '@imgcls/metrics';
import {
  type ModelMetadata,
  resolveModel,
  WEIGHT_QUANTIZATIONS,
  type WeightQuantization,
} from '@imgcls/models';
import {
  directoryHandler,
  type ModelSize,
  modelDirectory,
  modelSizeOnDisk,
  readMetadata,
  type SavedQuantizedModel,
  saveQuantizedModel,
  writeMetadata,
} from '@imgcls/models/node';
import { modelStore } from '@imgcls/models/store';
import type { DecodedImage } from '@imgcls/preprocess';
import { type ImageSet, readImageArchive } from '@imgcls/train';
import type * as tf from '@tensorflow/tfjs-core';
import type { Command } from 'commander';
import { startBackend } from '../backend';
import { UsageError } from '../errors';
import { machineDescription, modelFactRows, testReport, writeTestCharts } from '../model-card';
import { modelReference } from '../model-store';
import type { Terminal } from '../terminal';

interface ExportFlags {
  readonly model: string;
  readonly quantize: string;
  readonly out: string;
  readonly data?: string;
  readonly split: string;
  readonly batchSize: string;
  readonly json?: boolean;
}

/** The model to quantise: how to read it, its metadata, and its folder when it has one on disk. */
interface SourceModel {
  readonly handler: tf.io.IOHandler;
  readonly metadata?: ModelMetadata;
  readonly directory?: string;
  /** What loadClassifier is given to load the float model for the accuracy comparison. */
  readonly reference: string;
}

/**
 * A folder as given (or a folder of that name in the models folder), else a registry id through the model store: its folder when the models folder or
 * an installed package serves it (sizes are compared against it), else its download.
 */
async function openSource(model: string): Promise<SourceModel> {
  const given = modelReference(model);
  if (existsSync(given)) {
    const directory = resolve(await modelDirectory(given));
    const metadata = await readMetadata(directory);
    return {
      handler: directoryHandler(directory),
      ...(metadata ? { metadata } : {}),
      directory,
      reference: directory,
    };
  }
  const resolved = await modelStore.resolve(resolveModel(model).id);
  const local = resolved.source === 'models-folder' || resolved.source === 'package';
  return {
    handler: resolved.handler,
    ...(resolved.metadata ? { metadata: resolved.metadata } : {}),
    ...(local ? { directory: resolved.origin } : {}),
    reference: model,
  };
}

/** A whole split held in memory, served as batches of decoded images with their labels. */
function* batchesOf(images: ImageSet, batchSize: number): Iterable<LabelledBatch<DecodedImage[]>> {
  const stride = images.height * images.width * 3;
  for (let start = 0; start < images.count; start += batchSize) {
    const end = Math.min(images.count, start + batchSize);
    const inputs: DecodedImage[] = [];
    for (let index = start; index < end; index++)
      inputs.push({
        data: images.pixels.subarray(index * stride, (index + 1) * stride),
        width: images.width,
        height: images.height,
      });
    yield { inputs, labels: images.labels.subarray(start, end) };
  }
}

/** Evaluates a classifier on the split, also returning its top-1 prediction per image. */
async function measure(
  classifier: ImageClassifier,
  images: ImageSet,
  batchSize: number,
  onProgress: (done: number) => void,
): Promise<{ evaluation: EvaluationResult; predicted: Int32Array }> {
  const predicted = new Int32Array(images.count);
  let done = 0;
  const evaluation = await evaluate(
    {
      name: classifier.metadata.id,
      labels: classifier.metadata.labels,
      predict: async (batch: DecodedImage[]) => {
        const probabilities = await classifier.probabilities(batch);
        predicted.set(argmax(probabilities), done);
        done += batch.length;
        onProgress(done);
        return probabilities;
      },
    },
    batchesOf(images, batchSize),
  );
  return { evaluation, predicted };
}

const percent = (value: number) => `${(value * 100).toFixed(2)}%`;
const bytes = (count: number) =>
  `${count.toLocaleString('en-US')} B (${(count / 2 ** 20).toFixed(2)} MiB)`;
const shellWord = (word: string) =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;

/** What the export measured; printed as JSON with --json and written into the card. */
interface ExportReport {
  readonly source: string;
  readonly out: string;
  readonly quantize: WeightQuantization;
  readonly command: string;
  readonly quantized: number;
  readonly float16Fallback: readonly string[];
  readonly unchanged: readonly string[];
  readonly sizeBefore?: ModelSize;
  readonly sizeAfter: ModelSize;
  readonly accuracy?: {
    readonly data: string;
    readonly split: string;
    readonly images: number;
    readonly before: number;
    readonly after: number;
    /** Images whose top-1 class differs between the float and the quantised model. */
    readonly changedPredictions: number;
  };
}

function quantisationSection(
  report: ExportReport,
  metadata: ModelMetadata | undefined,
  saved: SavedQuantizedModel,
): string {
  const from = metadata?.quantization?.from;
  const method =
    report.quantize === 'uint8'
      ? `Per-tensor affine uint8 (value = code × scale + min, one scale and min per tensor, min nudged so 0.0 is exact, every weight within half a step). ${saved.float16Fallback.length > 0 ? `${saved.float16Fallback.length} tensor(s) whose largest output channel exceeds 16× the median channel are stored as float16 instead: ${saved.float16Fallback.map((name) => `\`${name}\``).join(', ')}.` : 'No tensor had channels uneven enough (largest > 16× median) to need float16.'}`
      : 'IEEE 754 half precision (float16), round to nearest, ties to even.';
  const sizeRow = (label: string, key: keyof ModelSize) =>
    `| ${label} | ${report.sizeBefore ? bytes(report.sizeBefore[key]) : 'not on disk'} | ${bytes(report.sizeAfter[key])} |${report.sizeBefore ? ` ${((report.sizeAfter[key] / report.sizeBefore[key]) * 100).toFixed(1)}% |` : ' |'}`;
  const accuracy = report.accuracy;
  return `## Quantisation
Weight-only quantisation of the float32 model ${from ? `\`${from.id}\` (version ${from.version})` : `at \`${report.source}\``}: the
weights are stored as ${report.quantize} and TF.js dequantises them to float32 while loading, so the model
computes in float32 as before; only the file is smaller. ${method}${saved.unchanged.length > 0 ? ` Non-float weights are kept as they were (${saved.unchanged.length}).` : ''}

| | float32 | ${report.quantize} | ratio |
| --- | ---: | ---: | ---: |
${sizeRow('weights on disk', 'weightBytes')}
${sizeRow('model.json + weights', 'totalBytes')}
${
  accuracy
    ? `| ${accuracy.split} accuracy | ${percent(accuracy.before)} | ${percent(accuracy.after)} | ${accuracy.after >= accuracy.before ? '+' : '−'}${(Math.abs(accuracy.after - accuracy.before) * 100).toFixed(2)} points |

Accuracy measured by \`@imgcls/metrics\` on all ${accuracy.images} images of the \`${accuracy.split}\` split of
\`${accuracy.data}\`, both models in the same run on this machine; the top-1 class changed on
${accuracy.changedPredictions} of them (${percent(accuracy.changedPredictions / accuracy.images)}).`
    : `Accuracy was not measured: run the command with \`--data <archive>\` to measure it before and after.`
}

Made with (from the repository root, \`imgcls\` = \`node apps/cli/dist/cli.js\`):

\`\`\`sh
${report.command}
\`\`\`
`;
}

function cardText(
  metadata: ModelMetadata,
  report: ExportReport,
  saved: SavedQuantizedModel,
  evaluation: EvaluationResult | undefined,
): string {
  const tested = evaluation
    ? testReport(
        {
          numClasses: evaluation.confusion.numClasses,
          counts: Int32Array.from(evaluation.confusion.counts),
        },
        metadata.labels,
      )
    : undefined;
  return `# ${metadata.name}

| | |
| --- | --- |
${modelFactRows(metadata)}
| quantised from | \`${report.source}\` |
| trained with | \`${metadata.source ?? 'unknown'}\` |
| machine | ${machineDescription()} |
${tested ? `| **${report.accuracy?.split} accuracy** | **${percent(tested.accuracy)}** on ${tested.total} ${report.accuracy?.split} images |\n| macro F1 | ${tested.macroF1.toFixed(3)} |\n` : ''}
${quantisationSection(report, metadata, saved)}${
  tested
    ? `
## ${report.accuracy?.split === 'test' ? 'Test' : report.accuracy?.split}-set report (${report.quantize} weights)

${tested.markdown}

## Pictures
![Confusion matrix](confusion-matrix.svg)
![F1 per class](per-class-f1.svg)
`
    : ''
}`;
}

/** `imgcls export`: weight-quantised copies of a model (uint8 or float16), with size and accuracy before/after. */
export function registerExport(program: Command, terminal: () => Terminal): void {
  program
    .command('export')
    .description(
      'write a copy of a model with uint8 or float16 weights (TF.js dequantises them on load), reporting size and, with --data, accuracy before/after',
    )
    .requiredOption('-m, --model <folder|id>', 'model folder (with model.json) or registered id')
    .requiredOption('--quantize <type>', `weight storage: ${WEIGHT_QUANTIZATIONS.join(' or ')}`)
    .requiredOption('-o, --out <folder>', 'folder to write the quantised model into')
    .option(
      '-d, --data <archive>',
      'tar(.gz) with <split>/<class>/<image> entries (e.g. the CIFAR-10 JPEG archive): measure accuracy before and after',
    )
    .option('--split <name>', 'split of --data to measure on', 'test')
    .option('-b, --batch-size <n>', 'images per batch when measuring', '256')
    .option('--json', 'machine-readable summary')
    .addHelpText(
      'after',
      `
Examples:
  imgcls export --model models/cifar10-seedcnn --quantize uint8 --out models/cifar10-seedcnn-uint8
  imgcls export --model cifar10-seedcnn --quantize float16 --out /tmp/seedcnn-f16 --data cifar10-jpg.tar.gz
The output folder gets model.json, weights.bin, metadata.json (with a "quantization" record) and a
MODEL_CARD.md with a Quantisation section; load it like any model folder (loadClassifier, --model).`,
    )
    .action(async (flags: ExportFlags) => {
      const out = terminal();
      const dtype = flags.quantize as WeightQuantization;
      if (!WEIGHT_QUANTIZATIONS.includes(dtype))
        throw new UsageError(
          `unknown --quantize "${flags.quantize}"`,
          `choose ${WEIGHT_QUANTIZATIONS.join(' or ')}`,
        );
      const batchSize = Number(flags.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 4096)
        throw new UsageError(
          `--batch-size must be an integer from 1 to 4096, got "${flags.batchSize}"`,
        );
      const command = [
        'imgcls export',
        `--model ${shellWord(flags.model)}`,
        `--quantize ${dtype}`,
        `--out ${shellWord(flags.out)}`,
        ...(flags.data ? [`--data ${shellWord(flags.data)}`] : []),
        ...(flags.data && flags.split !== 'test' ? [`--split ${shellWord(flags.split)}`] : []),
      ].join(' ');
      const source = await openSource(flags.model);
      const target = resolve(flags.out);
      if (source.directory && resolve(source.directory) === target)
        throw new UsageError(
          `--out is the model's own folder (${target})`,
          'write the quantised copy to a new folder',
        );
      // Read the data first: a bad archive should fail before anything is written.
      const images = flags.data
        ? await readImageArchive(flags.data, flags.split, source.metadata?.labels)
        : undefined;
      if (images && !source.metadata)
        throw new UsageError(
          `${flags.model} has no metadata.json`,
          'accuracy needs its labels and preprocessing: add a metadata.json, or export without --data',
        );

      const saved = await saveQuantizedModel(source, target, dtype);
      const sizeBefore = source.directory ? await modelSizeOnDisk(source.directory) : undefined;
      out.err(
        `wrote ${target}: ${saved.quantized.length} tensors as ${dtype}${saved.float16Fallback.length ? ` (${saved.float16Fallback.length} kept as float16: uneven channels)` : ''}, weights ${sizeBefore ? `${bytes(sizeBefore.weightBytes)} → ` : ''}${bytes(saved.sizeOnDisk.weightBytes)}`,
      );

      let accuracy: ExportReport['accuracy'];
      let quantisedEvaluation: EvaluationResult | undefined;
      if (images && saved.metadata) {
        const backend = await startBackend();
        out.err(
          `measuring on ${images.count} ${flags.split} images of ${flags.data} (${backend})…`,
        );
        const run = async (reference: string, label: string) => {
          const classifier = await loadClassifier(reference, { backend: backend as BackendChoice });
          const started = Date.now();
          try {
            const measured = await measure(classifier, images, batchSize, (done) =>
              out.progress(done / images.count, `${label}: ${done}/${images.count} images`),
            );
            out.endProgress();
            out.err(
              `${label}: accuracy ${percent(measured.evaluation.accuracy)} (${Math.round((Date.now() - started) / 1000)} s)`,
            );
            return measured;
          } finally {
            out.endProgress();
            classifier.dispose();
          }
        };
        const before = await run(source.reference, 'float32');
        const after = await run(target, dtype);
        quantisedEvaluation = after.evaluation;
        accuracy = {
          data: flags.data as string,
          split: flags.split,
          images: images.count,
          before: before.evaluation.accuracy,
          after: after.evaluation.accuracy,
          changedPredictions: before.predicted.reduce(
            (count, guess, index) => count + (guess === after.predicted[index] ? 0 : 1),
            0,
          ),
        };
        const metric = (prefix: string) =>
          prefix
            ? `${prefix}${flags.split[0]?.toUpperCase()}${flags.split.slice(1)}Accuracy`
            : `${flags.split}Accuracy`;
        await writeMetadata(target, {
          ...saved.metadata,
          metrics: { [metric('')]: accuracy.after, [metric('source')]: accuracy.before },
        });
        if (flags.split === 'test') {
          await writeFile(
            join(target, 'test-confusion.json'),
            JSON.stringify(after.evaluation.confusion.counts),
          );
          await writeFile(
            join(target, 'test-calibration.json'),
            JSON.stringify(after.evaluation.calibration),
          );
          await writeTestCharts(
            target,
            {
              numClasses: after.evaluation.confusion.numClasses,
              counts: Int32Array.from(after.evaluation.confusion.counts),
            },
            saved.metadata.labels,
          );
        }
      }

      const report: ExportReport = {
        source: source.directory
          ? relative(process.cwd(), source.directory) || basename(source.directory)
          : flags.model,
        out: target,
        quantize: dtype,
        command,
        quantized: saved.quantized.length,
        float16Fallback: saved.float16Fallback,
        unchanged: saved.unchanged,
        ...(sizeBefore ? { sizeBefore } : {}),
        sizeAfter: saved.sizeOnDisk,
        ...(accuracy ? { accuracy } : {}),
      };
      if (saved.metadata)
        await writeFile(
          join(target, 'MODEL_CARD.md'),
          cardText(saved.metadata, report, saved, quantisedEvaluation),
        );
      if (flags.json) {
        out.out(JSON.stringify(report));
        return;
      }
      const ratio = sizeBefore
        ? ` (${((saved.sizeOnDisk.totalBytes / sizeBefore.totalBytes) * 100).toFixed(1)}%)`
        : '';
      out.out(
        `size on disk: ${sizeBefore ? `${bytes(sizeBefore.totalBytes)} → ` : ''}${bytes(saved.sizeOnDisk.totalBytes)}${ratio}`,
      );
      if (accuracy)
        out.out(
          `${flags.split} accuracy on ${accuracy.images} images: ${percent(accuracy.before)} → ${percent(accuracy.after)} (${accuracy.changedPredictions} top-1 predictions changed)`,
        );
      out.out(
        `saved ${target}${saved.metadata ? ' with metadata.json and MODEL_CARD.md' : ' (no metadata.json: the source had none)'}`,
      );
    });
}
