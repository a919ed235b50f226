import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { evaluate, formatReportText, type LabelledBatch } from '@imgcls/metrics';
import type { DecodedImage } from '@imgcls/preprocess';
import type { Command } from 'commander';
import { type LabelledImages, openLabelledImages } from '../dataset';
import {
  evaluationCharts,
  loadPredictor,
  percent,
  reportOf,
  slug,
  summaryLines,
  writeCharts,
} from '../evaluation';
import { htmlReport } from '../html-report';
import { positiveInteger } from '../numbers';
import type { Terminal } from '../terminal';
import { testTimeAugmentationOf } from '../training-data';

interface EvaluateFlags {
  readonly model: string;
  readonly data: string;
  readonly split: string;
  readonly limit?: string;
  readonly seed: string;
  readonly batchSize: string;
  readonly labels?: string;
  readonly out?: string;
  readonly html?: boolean;
  readonly json?: boolean;
  readonly tta?: string;
}

/**
 * Passes over a dataset's batches while drawing progress: images done, images per second.
 * `label` names what is being measured.
 */
export async function* withProgress(
  batches: AsyncIterable<LabelledBatch<DecodedImage[]>>,
  total: number,
  out: Terminal,
  label: string,
): AsyncIterable<LabelledBatch<DecodedImage[]>> {
  const started = performance.now();
  let done = 0;
  for await (const batch of batches) {
    yield batch;
    done += batch.labels.length;
    const perSecond = done / ((performance.now() - started) / 1000);
    out.progress(
      done / total,
      `${label}: ${done}/${total} images, ${perSecond.toFixed(1)} img/s, ETA ${Math.round((total - done) / perSecond)} s`,
    );
  }
  out.endProgress();
}

/** The flags shared by `evaluate` and `compare` that choose the images. */
export async function openData(flags: {
  data: string;
  split: string;
  limit?: string;
  seed: string;
}): Promise<LabelledImages> {
  return openLabelledImages(flags.data, {
    split: flags.split,
    seed: positiveInteger(flags.seed, '--seed', 0),
    ...(flags.limit !== undefined ? { limit: positiveInteger(flags.limit, '--limit') } : {}),
  });
}

/** `imgcls evaluate`: one model on a labelled dataset: report, charts (SVG, PNG), optional HTML. */
export function registerEvaluate(program: Command, terminal: () => Terminal): void {
  program
    .command('evaluate')
    .description(
      'measure a model on labelled images: classification report, calibration, latency, confusion matrix and charts',
    )
    .requiredOption('-m, --model <id|folder|url|file.tflite>', 'the model to evaluate')
    .requiredOption(
      '-d, --data <archive|folder>',
      'tar(.gz) or folder of <split>/<class>/<image> (or <class>/<image>); classes are folder names',
    )
    .option('--split <name>', 'split folder to read', 'test')
    .option('--limit <n>', 'evaluate a seeded stratified subset of n images')
    .option('--seed <n>', 'seed of the --limit subset', '1')
    .option('-b, --batch-size <n>', 'images per forward pass', '32')
    .option('-l, --labels <labels.txt>', 'class names of a .tflite model, one per line')
    .option('-o, --out <folder>', 'where charts and report.json go (default: evaluations/<model>)')
    .option('--html', 'also write a self-contained report.html')
    .option('--json', 'print the whole evaluation as JSON')
    .option(
      '--tta <mode>',
      "test-time augmentation: none, flip or flip-translate (default: the model's metadata)",
    )
    .addHelpText(
      'after',
      `
Examples:
  imgcls evaluate --model models/cifar10-seedcnn --data cifar10-jpg.tar.gz
  imgcls evaluate --model mobilenet-v2 --data cifar10-jpg.tar.gz --limit 500 --html
  imgcls evaluate --model model.tflite --labels labels.txt --data photos/ --json > eval.json

An ImageNet model evaluated on CIFAR-10 classes is scored zero-shot through the documented
ImageNet→CIFAR-10 class mapping (IMAGENET_TO_CIFAR10 in @imgcls/models); deer has no ImageNet class.`,
    )
    .action(async (flags: EvaluateFlags) => {
      const out = terminal();
      const batchSize = positiveInteger(flags.batchSize, '--batch-size');
      if (!out.quiet) out.err(out.style('dim', `reading ${flags.data}…`));
      const data = await openData(flags);
      if (!out.quiet) out.err(out.style('dim', `loading ${flags.model}…`));
      const loaded = await loadPredictor(flags.model, data.classes, {
        ...(flags.labels ? { labelsFile: flags.labels } : {}),
        ...(flags.tta ? { testTimeAugmentation: testTimeAugmentationOf(flags.tta) } : {}),
      });
      const { predictor, alignment, info } = loaded;
      if (!out.quiet) {
        out.err(`model: ${predictor.name} on ${info.backend}: ${alignment.description}`);
        out.err(`data: ${data.description}`);
      }
      let evaluation: Awaited<ReturnType<typeof evaluate>>;
      const started = performance.now();
      try {
        evaluation = await evaluate(
          predictor,
          withProgress(data.batches(batchSize), data.count, out, predictor.name),
        );
      } finally {
        loaded.dispose();
      }
      const seconds = (performance.now() - started) / 1000;
      const directory = resolve(flags.out ?? join('evaluations', slug(predictor.name)));
      await mkdir(directory, { recursive: true });
      const charts = evaluationCharts(evaluation, data.classes);
      const files = await writeCharts(directory, charts);
      const record = {
        model: { reference: flags.model, ...info },
        data: {
          path: flags.data,
          split: flags.split,
          description: data.description,
          classes: data.classes,
          images: data.count,
        },
        alignment: {
          meanMappedMass: loaded.meanMappedMass(),
          kind: alignment.kind,
          description: alignment.description,
          unreachable: alignment.unreachable,
        },
        batchSize,
        seconds,
        evaluation,
      };
      await writeFile(join(directory, 'report.json'), `${JSON.stringify(record, null, 2)}\n`);
      files.push('report.json');
      if (flags.html) {
        await writeFile(
          join(directory, 'report.html'),
          htmlReport({
            evaluation,
            classes: data.classes,
            charts,
            alignment: alignment.description,
            data: data.description,
            backend: info.backend,
          }),
        );
        files.push('report.html');
      }
      if (flags.json) {
        out.out(JSON.stringify({ ...record, files: files.map((file) => join(directory, file)) }));
        return;
      }
      out.out(
        `${predictor.name} on ${data.count} images (${info.backend}, ${seconds.toFixed(0)} s)`,
      );
      if (alignment.kind === 'imagenet-to-cifar10' || alignment.kind === 'restricted')
        out.out(
          `mapping: ${alignment.description}; on average ${percent(loaded.meanMappedMass())} of the probability fell on the dataset's classes`,
        );
      out.out('');
      out.out(formatReportText(reportOf(evaluation, data.classes), 3));
      out.out('');
      for (const line of summaryLines(evaluation, data.classes)) out.out(line);
      if (!out.quiet) out.err(out.style('dim', `wrote ${files.length} files to ${directory}`));
    });
}
