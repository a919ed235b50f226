import { type ClassifyOutcome, type ImageClassifier, loadClassifier } from '@imgcls/classifier';
import { type DecodedImage, decodeImage, ImgclsError } from '@imgcls/preprocess';
import type { Command } from 'commander';
import { backendLabel, startBackend } from '../backend';
import { EXIT, UsageError } from '../errors';
import { CSV_HEADER, formatOutcome, type OutputFormat } from '../format';
import { type ClassifyInput, expandInputs, inputName } from '../inputs';
import { modelReference } from '../model-store';
import { positiveInteger } from '../numbers';
import type { Terminal } from '../terminal';

interface ClassifyFlags {
  readonly model: string;
  readonly topK: string;
  readonly batchSize: string;
  readonly json?: boolean;
  readonly csv?: boolean;
  readonly maxPixels?: string;
}

async function readInput(
  input: ClassifyInput,
  maxPixels: number | undefined,
): Promise<DecodedImage> {
  const options = maxPixels ? { maxPixels } : {};
  if (input.kind === 'file') return decodeImage(input.path, options);
  const response = await fetch(input.url).catch((error: unknown) => {
    throw new ImgclsError(
      'DOWNLOAD_FAILED',
      `Cannot fetch ${input.url}: ${(error as Error).message}`,
    );
  });
  if (!response.ok)
    throw new ImgclsError('DOWNLOAD_FAILED', `${input.url} answered HTTP ${response.status}`);
  return decodeImage(new Uint8Array(await response.arrayBuffer()), options);
}

function failure(input: string, error: unknown): ClassifyOutcome {
  const code = ImgclsError.isInstance(error) ? error.code : 'ERROR';
  return {
    input,
    error: { code, message: error instanceof Error ? error.message : String(error) },
  };
}

/** `imgcls classify`: streams a result per input; unreadable inputs are reported and skipped. */
export function registerClassify(program: Command, terminal: () => Terminal): void {
  program
    .command('classify')
    .description('classify images: files, directories, globs or http(s) URLs')
    .argument(
      '<inputs...>',
      'image files, directories (searched recursively), glob patterns or URLs',
    )
    .option(
      '-m, --model <id|path|url>',
      'registered model id, model folder or model.json URL',
      'mobilenet-v2',
    )
    .option('-k, --top-k <n>', 'labels to show per image', '5')
    .option('-b, --batch-size <n>', 'images per forward pass', '8')
    .option('--json', 'one JSON object per image (NDJSON)')
    .option('--csv', 'CSV, one row per label')
    .option('--max-pixels <n>', 'reject images larger than this many pixels (default 50 million)')
    .addHelpText(
      'after',
      `
Examples:
  imgcls classify photo.jpg
  imgcls classify photos/ --model cifar10 --top-k 3
  imgcls classify 'shots/**/*.png' --json > results.ndjson
  imgcls classify https://example.com/cat.jpg --csv
  imgcls classify photo.jpg --model cifar10 --offline   # models folder, installed package or cache; no network`,
    )
    .action(async (inputArguments: string[], flags: ClassifyFlags) => {
      const out = terminal();
      if (flags.json && flags.csv) throw new UsageError('choose one of --json and --csv');
      const format: OutputFormat = flags.json ? 'json' : flags.csv ? 'csv' : 'text';
      const topK = positiveInteger(flags.topK, '--top-k');
      const batchSize = positiveInteger(flags.batchSize, '--batch-size');
      const maxPixels =
        flags.maxPixels === undefined
          ? undefined
          : positiveInteger(flags.maxPixels, '--max-pixels');
      const { inputs, missing } = await expandInputs(inputArguments);
      let failed = missing.length;
      for (const entry of missing)
        out.err(`${out.style('yellow', 'skipped')} ${entry.argument}: ${entry.reason}`);
      if (inputs.length === 0)
        throw new UsageError(
          'no images to classify',
          'pass image files, directories, globs or URLs',
        );

      if (!out.quiet) out.err(out.style('dim', `loading ${flags.model}…`));
      await startBackend();
      const classifier: ImageClassifier = await loadClassifier(modelReference(flags.model));
      if (!out.quiet) {
        const info = classifier.info();
        out.err(
          out.style(
            'dim',
            `${info.name} on ${backendLabel(info)}, ${info.labels} labels, ${inputs.length} image(s)`,
          ),
        );
      }
      if (format === 'csv') out.out(CSV_HEADER);
      try {
        for (let start = 0; start < inputs.length; start += batchSize) {
          const chunk = inputs.slice(start, start + batchSize);
          const decoded = await Promise.all(
            chunk.map((input) =>
              readInput(input, maxPixels).then(
                (image) => ({ image }),
                (error: unknown) => ({ error }),
              ),
            ),
          );
          const readable = decoded.flatMap((result, index) =>
            'image' in result ? [{ index, image: result.image }] : [],
          );
          const predictions =
            readable.length > 0
              ? await classifier.classifyBatch(
                  readable.map((entry) => entry.image),
                  { topK },
                )
              : [];
          const byIndex = new Map(
            readable.map((entry, position) => [entry.index, predictions[position]]),
          );
          chunk.forEach((input, index) => {
            const result = decoded[index];
            const outcome: ClassifyOutcome =
              result && 'error' in result
                ? failure(inputName(input), result.error)
                : { input: inputName(input), predictions: byIndex.get(index) ?? [] };
            if ('error' in outcome) failed++;
            for (const line of formatOutcome(outcome, format)) out.out(line);
          });
          out.progress(
            Math.min(1, (start + chunk.length) / inputs.length),
            `${start + chunk.length}/${inputs.length}`,
          );
        }
      } finally {
        out.endProgress();
        classifier.dispose();
      }
      if (failed > 0) {
        out.err(out.style('yellow', `${failed} input(s) could not be classified`));
        process.exitCode = EXIT.failed;
      }
    });
}
