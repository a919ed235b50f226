import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directoryHandler, readMetadata, saveQuantizedModel } from '@imgcls/models/node';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, sharedData } from '../../../tooling/test-data';
import { loadClassifier } from '../src/index';

const SHIPPED = join(REPO_ROOT, 'models/cifar10-seedcnn');
const archive = sharedData('cifar10/cifar10-jpg.tar.gz');

/** The first `perClass` CIFAR-10 test JPEGs of every class, extracted from the shared archive. */
function cifarTestImages(path: string, perClass: number): Array<{ label: string; bytes: Buffer }> {
  const directory = mkdtempSync(join(tmpdir(), 'imgcls-quantized-cifar-'));
  execFileSync('tar', ['-xzf', path, '-C', directory, '--wildcards', '*/test/*']);
  const root = join(directory, 'cifar10', 'test');
  return readdirSync(root)
    .sort()
    .flatMap((label) =>
      readdirSync(join(root, label))
        .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))
        .slice(0, perClass)
        .map((file) => ({ label, bytes: readFileSync(join(root, label, file)) })),
    );
}

describe.skipIf(!archive)('loadClassifier on quantised copies of the shipped seed CNN', () => {
  const folders: Record<'uint8' | 'float16', string> = { uint8: '', float16: '' };
  beforeAll(async () => {
    const metadata = await readMetadata(SHIPPED);
    for (const dtype of ['uint8', 'float16'] as const) {
      folders[dtype] = mkdtempSync(join(tmpdir(), `imgcls-quantized-${dtype}-`));
      await saveQuantizedModel(
        { handler: directoryHandler(SHIPPED), ...(metadata ? { metadata } : {}) },
        folders[dtype],
        dtype,
      );
    }
  });

  it('loads them like any model folder and predicts near-identically on real CIFAR-10 test images', async () => {
    const images = cifarTestImages(archive as string, 20);
    const reference = await loadClassifier(SHIPPED, { backend: 'wasm' });
    const expected = await reference.probabilities(images.map((image) => image.bytes));
    reference.dispose();
    const top1 = (row: Float32Array) => row.indexOf(Math.max(...row));
    for (const [dtype, maxDifference, minAgreement] of [
      ['uint8', 0.1, 0.97],
      ['float16', 0.005, 0.995],
    ] as const) {
      const classifier = await loadClassifier(folders[dtype], { backend: 'wasm' });
      expect(classifier.info().id).toBe(`cifar10-seedcnn-${dtype}`);
      expect(classifier.metadata.quantization?.dtype).toBe(dtype);
      const before = tf.memory().numTensors;
      const actual = await classifier.probabilities(images.map((image) => image.bytes));
      await classifier.probabilities(images.slice(0, 8).map((image) => image.bytes));
      expect(tf.memory().numTensors).toBe(before);
      let agreeing = 0;
      let largest = 0;
      actual.forEach((row, index) => {
        const floatRow = expected[index] as Float32Array;
        if (top1(row) === top1(floatRow)) agreeing++;
        row.forEach((probability, k) => {
          largest = Math.max(largest, Math.abs(probability - (floatRow[k] as number)));
        });
      });
      console.info(
        `[quantized] ${dtype}: top-1 agrees with float32 on ${agreeing}/${images.length} images, largest probability change ${largest.toFixed(4)}`,
      );
      expect(agreeing / images.length).toBeGreaterThanOrEqual(minAgreement);
      expect(largest).toBeLessThan(maxDifference);
      classifier.dispose();
    }
  });
});
