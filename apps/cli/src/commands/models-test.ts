import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type ModelMetadata, parseModelMetadata } from '@imgcls/models';
import { directoryHandler, writeMetadata } from '@imgcls/models/node';
import { registerWasmGradients } from '@imgcls/wasm-grad';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Command } from 'commander';
import { startBackend } from '../backend';
import { UsageError } from '../errors';
import type { Terminal } from '../terminal';
import { openDataset, testModel, testTimeAugmentationOf } from '../training-data';

interface TestFlags {
  readonly data: string;
  readonly tta?: string;
}

/**
 * `imgcls models test <folder>`: tests a trained model folder on its dataset's test split, as `imgcls
 * train` does at its end, and records the result (metadata.json's test metrics and test-time
 * augmentation, test-confusion.json) for `imgcls models card`; other metrics, such as the wall time, stay.
 */
export function registerModelsTest(models: Command, terminal: () => Terminal): void {
  models
    .command('test')
    .description(
      "test a model folder written by imgcls train on its dataset's test split and record the result in it",
    )
    .argument('<folder>', 'a folder written by imgcls train (model.json, metadata.json)')
    .requiredOption(
      '--data <source>',
      'the dataset it was trained on: cifar10, a folder or an archive',
    )
    .option('--tta <mode>', 'views to test and serve with: none (default), flip or flip-translate')
    .action(async (folder: string, flags: TestFlags) => {
      const out = terminal();
      const directory = resolve(folder);
      const tta = flags.tta ? testTimeAugmentationOf(flags.tta) : 'none';
      const text = await readFile(join(directory, 'metadata.json'), 'utf8').catch(() => {
        throw new UsageError(`${directory} has no metadata.json`, 'run imgcls train to produce it');
      });
      const metadata = parseModelMetadata(JSON.parse(text));
      if (metadata.format !== 'layers-model')
        throw new UsageError(
          `${directory} holds a ${metadata.format}, not a model imgcls train wrote`,
        );
      if ((await startBackend()) === 'wasm') registerWasmGradients();
      const dataset = await openDataset(flags, out);
      if (!dataset.test)
        throw new UsageError(
          `${flags.data} has no test split`,
          'pass the dataset the model was trained on',
        );
      if (dataset.classes.join('\n') !== metadata.labels.join('\n'))
        throw new UsageError(
          `${flags.data} has other classes than the model (${dataset.classes.join(', ')})`,
          'pass the dataset the model was trained on',
        );
      const model = await tfl.loadLayersModel(directoryHandler(directory));
      const views = tta === 'none' ? undefined : tta;
      const tested = await testModel(
        model,
        dataset.test(metadata.preset),
        dataset.classes,
        directory,
        out,
        views,
      );
      model.dispose();
      const { testTimeAugmentation: _, metrics = {}, ...rest } = metadata;
      const { testAccuracySingleView: __, ...kept } = metrics;
      const updated: ModelMetadata = {
        ...rest,
        ...(views ? { testTimeAugmentation: views } : {}),
        metrics: {
          ...kept,
          testAccuracy: tested.accuracy,
          ...(tested.singleViewAccuracy !== undefined
            ? { testAccuracySingleView: tested.singleViewAccuracy }
            : {}),
        },
      };
      await writeMetadata(directory, updated);
      out.out(
        `recorded in ${directory}: test accuracy ${(tested.accuracy * 100).toFixed(2)}%${views ? ` with ${views} views (one view: ${((tested.singleViewAccuracy ?? 0) * 100).toFixed(2)}%)` : ''}`,
      );
    });
}
