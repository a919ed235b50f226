import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { importTflite, parseLabelsFile, tfliteMetadata } from '@imgcls/models';
import { directoryHandler, writeMetadata } from '@imgcls/models/node';
import type { Command } from 'commander';
import { startBackend } from '../backend';
import { UsageError } from '../errors';
import { newModelFolder } from '../model-store';
import type { Terminal } from '../terminal';

interface ImportFlags {
  readonly labels?: string;
  readonly out?: string;
  readonly id?: string;
}

/** `imgcls models import <file.tflite>`: a TFLite classifier becomes a TF.js model folder with metadata. */
export function registerModelsImport(models: Command, terminal: () => Terminal): void {
  models
    .command('import')
    .description(
      'convert a TFLite classification model into a TF.js model folder with metadata.json',
    )
    .argument(
      '<file.tflite>',
      'TFLite model (MobileNet / EfficientNet-Lite family, float or quantised)',
    )
    .requiredOption(
      '-l, --labels <labels.txt>',
      'class names, one per line (a leading "background" is handled)',
    )
    .option(
      '-o, --out <folder>',
      'where to write model.json, weights.bin and metadata.json (default: <models folder>/<id>, the models folder being --models-dir, $IMGCLS_MODELS_DIR or ./models)',
    )
    .option('--id <id>', 'model id stored in metadata.json (default: the file name)')
    .addHelpText(
      'after',
      `
Examples:
  imgcls models import mobilenet_v2_1.0_224_quant.tflite --labels imagenet_labels.txt --id mobilenet-v2
  imgcls classify photo.jpg --model mobilenet-v2     # uses models/mobilenet-v2 before the hosted copy
  imgcls --models-dir ~/imgcls-models models import model.tflite --labels labels.txt --id mine`,
    )
    .action(async (file: string, flags: ImportFlags) => {
      const out = terminal();
      if (!flags.labels) throw new UsageError('--labels is required');
      const id = flags.id ?? basename(file).replace(/\.tflite$/i, '');
      const directory = flags.out ? resolve(flags.out) : newModelFolder(id);
      const bytes = await readFile(file).catch(() => {
        throw new UsageError(`cannot read ${file}`, 'check the path of the .tflite file');
      });
      const labels = parseLabelsFile(
        await readFile(flags.labels, 'utf8').catch(() => {
          throw new UsageError(`cannot read ${flags.labels}`, 'pass the labels file with --labels');
        }),
      );
      await startBackend();
      const imported = importTflite(new Uint8Array(bytes), { name: id });
      const metadata = tfliteMetadata(imported, { id, labels, source: basename(file) });
      await imported.model.save(directoryHandler(directory));
      await writeMetadata(directory, metadata);
      imported.model.dispose();
      const operators = Object.entries(imported.ops)
        .map(([op, count]) => `${op}×${count}`)
        .join(', ');
      out.out(
        `${id}: ${imported.inputShape.join('x')} → ${imported.outputUnits} outputs, ${imported.quantization} weights dequantised to float32`,
      );
      if (!out.quiet) out.err(out.style('dim', `operators: ${operators}`));
      out.out(`wrote ${directory}`);
    });
}
