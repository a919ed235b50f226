import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { selectBackend } from '@imgcls/classifier';
import { accuracy, classificationReport, confusionMatrix, formatReportText } from '@imgcls/metrics';
import { CIFAR10_LABELS, type ModelMetadata, resNet9, seedCnn } from '@imgcls/models';
import { directoryHandler, writeMetadata } from '@imgcls/models/node';
import { PRESETS, type PreprocessPreset } from '@imgcls/preprocess';
import {
  AdamW,
  constant,
  cosine,
  evaluateData,
  imageSetData,
  oneCycle,
  readImageArchive,
  Sgd,
  splitIndices,
  train,
} from '@imgcls/train';
import { registerWasmGradients } from '@imgcls/wasm-grad';
import * as tf from '@tensorflow/tfjs-core';
import type { Command } from 'commander';
import { EXIT, UsageError } from '../errors';
import type { Terminal } from '../terminal';

interface TrainFlags {
  readonly data: string;
  readonly arch: string;
  readonly epochs: string;
  readonly batchSize: string;
  readonly lr: string;
  readonly optimizer: string;
  readonly schedule: string;
  readonly augment?: boolean;
  readonly labelSmoothing: string;
  readonly validationSplit: string;
  readonly seed: string;
  readonly out?: string;
}

const ARCHITECTURES = { seedcnn: seedCnn, resnet9: resNet9 } as const;

function number(value: string, flag: string, min: number, max: number): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max)
    throw new UsageError(`${flag} must be a number from ${min} to ${max}, got "${value}"`);
  return parsed;
}

/** `imgcls train`: trains a CIFAR-style classifier on an image-folder archive, with checkpoints and resume. */
export function registerTrain(program: Command, terminal: () => Terminal): void {
  program
    .command('train')
    .description(
      'train a classifier from scratch on an image-folder archive (train/ and test/ splits)',
    )
    .requiredOption(
      '-d, --data <archive>',
      'tar(.gz) with <split>/<class>/<image> entries, e.g. the CIFAR-10 JPEG archive',
    )
    .option(
      '-a, --arch <name>',
      `architecture: ${Object.keys(ARCHITECTURES).join(', ')}`,
      'resnet9',
    )
    .option('-e, --epochs <n>', 'epochs', '20')
    .option('-b, --batch-size <n>', 'images per step', '64')
    .option('--lr <rate>', 'peak learning rate', '0.003')
    .option('--optimizer <name>', 'adamw or sgd (Nesterov)', 'adamw')
    .option('--schedule <name>', 'onecycle, cosine or constant', 'onecycle')
    .option('--augment', 'random crops (4 px reflect padding) and horizontal flips')
    .option('--label-smoothing <e>', 'label smoothing', '0.1')
    .option('--validation-split <f>', 'fraction of train/ held out for validation', '0.1')
    .option('--seed <n>', 'seed of the split, the data order and the initial weights', '1')
    .option(
      '-o, --out <folder>',
      'model folder (default models/cifar10-<arch>); checkpoints go to <out>/checkpoint',
    )
    .addHelpText(
      'after',
      `
Examples:
  imgcls train --data cifar10-jpg.tar.gz --arch resnet9 --epochs 24 --augment
  imgcls train --data cifar10-jpg.tar.gz --arch seedcnn --epochs 10 --out models/cifar10-seedcnn
Ctrl-C saves a checkpoint and exits; run the same command again to resume where it stopped.`,
    )
    .action(async (flags: TrainFlags) => {
      const out = terminal();
      const build = ARCHITECTURES[flags.arch as keyof typeof ARCHITECTURES];
      if (!build)
        throw new UsageError(
          `unknown --arch "${flags.arch}"`,
          `choose one of ${Object.keys(ARCHITECTURES).join(', ')}`,
        );
      const epochs = number(flags.epochs, '--epochs', 1, 1000);
      const batchSize = number(flags.batchSize, '--batch-size', 1, 4096);
      const peakRate = number(flags.lr, '--lr', 1e-7, 10);
      const seed = number(flags.seed, '--seed', 0, 2 ** 31);
      const directory = resolve(flags.out ?? `models/cifar10-${flags.arch}`);
      const backend = await selectBackend('auto');
      if (backend === 'wasm') registerWasmGradients();
      out.err(out.style('dim', `reading ${flags.data}…`));
      const started = Date.now();
      const trainSet = await readImageArchive(flags.data, 'train', CIFAR10_LABELS);
      const split = splitIndices(
        trainSet.count,
        number(flags.validationSplit, '--validation-split', 0, 0.5),
        seed,
      );
      const preset: PreprocessPreset = {
        ...PRESETS.cifar10,
        height: trainSet.height,
        width: trainSet.width,
      };
      const data = imageSetData(
        trainSet,
        split.train,
        preset,
        flags.augment ? { cropPadding: 4, horizontalFlip: true, seed } : undefined,
      );
      const validation =
        split.validation.length > 0 ? imageSetData(trainSet, split.validation, preset) : undefined;
      const model = build({
        inputShape: [trainSet.height, trainSet.width, 3],
        classes: trainSet.classes.length,
        seed,
      });
      const totalSteps = epochs * Math.ceil(data.size / batchSize);
      const schedule =
        flags.schedule === 'onecycle'
          ? oneCycle(peakRate, totalSteps)
          : flags.schedule === 'cosine'
            ? cosine(peakRate, totalSteps)
            : constant(peakRate);
      const optimizer =
        flags.optimizer === 'sgd'
          ? new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 })
          : new AdamW({ weightDecay: 5e-4 });
      out.err(
        `${flags.arch}: ${model.countParams().toLocaleString('en-US')} parameters, ${data.size} training and ${validation?.size ?? 0} validation images, ${epochs} epochs on ${backend}`,
      );

      const controller = new AbortController();
      const onInterrupt = () => controller.abort();
      process.once('SIGINT', onInterrupt);
      await mkdir(directory, { recursive: true });
      // One JSON line per epoch, appended as it ends, so the curves survive interruptions and resumes.
      const historyFile = join(directory, 'history.jsonl');
      const result = await train(
        {
          model,
          data,
          ...(validation ? { validation } : {}),
          numClasses: trainSet.classes.length,
          epochs,
          batchSize,
          optimizer,
          schedule,
          labelSmoothing: number(flags.labelSmoothing, '--label-smoothing', 0, 0.5),
          clipNorm: 5,
          seed,
          checkpointDir: join(directory, 'checkpoint'),
          checkpointEvery: 100,
        },
        {
          signal: controller.signal,
          onEvent: (event) => {
            if (event.type === 'step') {
              out.progress(
                event.step / event.totalSteps,
                `step ${event.step}/${event.totalSteps} loss ${event.loss.toFixed(3)} ${event.imagesPerSecond.toFixed(0)} img/s ETA ${Math.round(event.etaSeconds / 60)} min`,
              );
            } else if (event.type === 'epoch') {
              const line = {
                epoch: event.epoch + 1,
                loss: event.loss,
                ...(event.validation
                  ? {
                      validationAccuracy: event.validation.accuracy,
                      validationLoss: event.validation.loss,
                    }
                  : {}),
              };
              void appendFile(historyFile, `${JSON.stringify(line)}\n`);
              const validationText = event.validation
                ? `, validation accuracy ${(event.validation.accuracy * 100).toFixed(2)}%`
                : '';
              out.err(
                `epoch ${event.epoch + 1}/${epochs}: loss ${event.loss.toFixed(4)}${validationText}`,
              );
            } else if (event.type === 'resumed') {
              out.err(
                `resumed from ${join(directory, 'checkpoint')} at step ${event.step} (epoch ${event.epoch + 1})`,
              );
            }
          },
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
      const testSet = await readImageArchive(flags.data, 'test', trainSet.classes).catch(
        () => undefined,
      );
      const metrics: Record<string, number> = {
        epochs,
        trainingSeconds: Math.round((Date.now() - started) / 1000),
      };
      if (testSet) {
        const testData = imageSetData(
          testSet,
          Array.from({ length: testSet.count }, (_, index) => index),
          preset,
        );
        const predicted: number[] = [];
        for (let start = 0; start < testData.size; start += 256) {
          const indices = Array.from(
            { length: Math.min(256, testData.size - start) },
            (_, offset) => start + offset,
          );
          const { images, labels } = testData.batch(indices);
          const guesses = tf.tidy(() => tf.argMax(model.predict(images) as tf.Tensor, -1));
          predicted.push(...(guesses.dataSync() as Int32Array));
          tf.dispose([images, labels, guesses]);
        }
        const truth = Array.from(testSet.labels);
        metrics.testAccuracy = accuracy(truth, predicted);
        out.out(
          formatReportText(classificationReport(truth, predicted, { labels: trainSet.classes })),
        );
        await writeFile(
          join(directory, 'test-confusion.json'),
          JSON.stringify(
            Array.from(confusionMatrix(truth, predicted, trainSet.classes.length).counts),
          ),
        );
      }
      if (validation)
        metrics.validationAccuracy = evaluateData(model, validation, {
          numClasses: trainSet.classes.length,
          batchSize: 256,
        }).accuracy;
      await model.save(directoryHandler(directory));
      const metadata: ModelMetadata = {
        schemaVersion: 1,
        id: `cifar10-${flags.arch}`,
        name: `${flags.arch} trained on CIFAR-10 by imgcls`,
        version: new Date().toISOString().slice(0, 10),
        format: 'layers-model',
        architecture: flags.arch,
        labels: [...trainSet.classes],
        output: 'probabilities',
        preset,
        source: `imgcls train --data ${flags.data} --arch ${flags.arch} --epochs ${epochs} --batch-size ${batchSize} --lr ${peakRate} --optimizer ${flags.optimizer} --schedule ${flags.schedule}${flags.augment ? ' --augment' : ''} --seed ${seed}`,
        metrics,
      };
      await writeMetadata(directory, metadata);
      out.out(
        `saved ${directory}${metrics.testAccuracy !== undefined ? `: test accuracy ${(metrics.testAccuracy * 100).toFixed(2)}%` : ''}`,
      );
    });
}
