import { loadClassifier } from '@imgcls/classifier';
import { quantile } from '@imgcls/metrics';
import type { DecodedImage } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import type { Command } from 'commander';
import { startBackend } from '../backend';
import { modelReference } from '../model-store';
import { positiveInteger } from '../numbers';
import type { Terminal } from '../terminal';

interface BenchFlags {
  readonly model: string;
  readonly batchSize: string;
  readonly runs: string;
  readonly json?: boolean;
}

/** Milliseconds of each of `runs` calls of `body`. */
async function timeRuns(runs: number, body: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await body();
    times.push(performance.now() - started);
  }
  return times;
}

/** `imgcls bench`: a model's latency (batch 1) and throughput (batch N) through `classifier.probabilities`. */
export function registerBench(program: Command, terminal: () => Terminal): void {
  program
    .command('bench')
    .description(
      'measure inference on this machine: batch-1 latency p50/p95 and batch-N throughput, with the backend used',
    )
    .option('-m, --model <id|folder|url>', 'the model to measure', 'mobilenet-v2')
    .option('-b, --batch-size <n>', 'images per forward pass for the throughput run', '32')
    .option(
      '-r, --runs <n>',
      'timed batch-1 runs (the throughput run does a fifth as many, at least 3)',
      '20',
    )
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Examples:
  imgcls bench                                  # mobilenet-v2 (an imported models/mobilenet-v2 if present)
  imgcls bench --model models/cifar10-seedcnn --batch-size 256 --runs 50
  imgcls bench --json

Images are synthetic, already decoded and at the model's input size: the times cover preprocessing
(normalisation), the forward pass and the probabilities, not JPEG decoding or resizing. Three untimed runs
warm the backend up first. Other processes on the machine slow the numbers down.`,
    )
    .action(async (flags: BenchFlags) => {
      const out = terminal();
      const batchSize = positiveInteger(flags.batchSize, '--batch-size');
      const runs = positiveInteger(flags.runs, '--runs');
      if (!out.quiet) out.err(out.style('dim', `loading ${flags.model}…`));
      await startBackend();
      const classifier = await loadClassifier(modelReference(flags.model));
      try {
        const info = classifier.info();
        const { height, width } = info.inputSize;
        const image: DecodedImage = {
          data: Uint8Array.from({ length: height * width * 3 }, (_, index) => (index * 37) % 256),
          width,
          height,
        };
        const batch = Array.from({ length: batchSize }, () => image);
        const simd =
          info.backend === 'wasm' ? tf.env().getBool('WASM_HAS_SIMD_SUPPORT') : undefined;
        if (!out.quiet)
          out.err(
            out.style(
              'dim',
              `${info.name} on ${info.backend}: warming up, then ${runs} runs of batch 1…`,
            ),
          );
        await timeRuns(3, () => classifier.probabilities([image]));
        const single = await timeRuns(runs, () => classifier.probabilities([image]));
        await classifier.probabilities(batch);
        const batched = await timeRuns(Math.max(3, Math.ceil(runs / 5)), () =>
          classifier.probabilities(batch),
        );
        const result = {
          model: info.id,
          backend: info.backend,
          ...(simd !== undefined ? { simd } : {}),
          inputSize: info.inputSize,
          batch1: { runs, p50Ms: quantile(single, 0.5), p95Ms: quantile(single, 0.95) },
          batchN: {
            batchSize,
            runs: batched.length,
            imagesPerSecond: (batchSize * 1000) / quantile(batched, 0.5),
          },
        };
        if (flags.json) {
          out.out(JSON.stringify(result));
          return;
        }
        out.out(
          `${info.id} (${height}x${width}) on ${info.backend}${simd !== undefined ? `, SIMD ${simd ? 'on' : 'off'}` : ''}`,
        );
        out.out(
          `batch 1:  p50 ${result.batch1.p50Ms.toFixed(1)} ms, p95 ${result.batch1.p95Ms.toFixed(1)} ms (${runs} runs)`,
        );
        out.out(
          `batch ${batchSize}: ${result.batchN.imagesPerSecond.toFixed(1)} images/s (median of ${batched.length} runs)`,
        );
      } finally {
        classifier.dispose();
      }
    });
}
