import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CIFAR10_LABELS, mobileNetV2, resNet9, seedCnn } from '@imgcls/models';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';
import { registerWasmGradients } from '../src/index';
import './backends';

const archive = sharedData('cifar10/cifar10-jpg.tar.gz');
const CLASSES: readonly string[] = CIFAR10_LABELS;

/** A small real batch: the first `perClass` training JPEGs of every CIFAR-10 class, pixels in [0, 1]. */
async function realBatch(
  archivePath: string,
  perClass: number,
): Promise<{ images: Float32Array; labels: number[] }> {
  const folder = mkdtempSync(join(tmpdir(), 'wasm-grad-cifar-'));
  try {
    const members = CLASSES.flatMap((name) =>
      Array.from(
        { length: perClass },
        (_, index) => `cifar10/train/${name}/${String(index).padStart(4, '0')}.jpg`,
      ),
    );
    execFileSync('tar', ['-xzf', archivePath, '-C', folder, ...members]);
    const images = new Float32Array(members.length * 32 * 32 * 3);
    const labels: number[] = [];
    for (const [index, member] of members.entries()) {
      const pixels = await sharp(readFileSync(join(folder, member)))
        .removeAlpha()
        .raw()
        .toBuffer();
      images.set(
        Float32Array.from(pixels, (value) => value / 255),
        index * 32 * 32 * 3,
      );
      labels.push(CLASSES.indexOf(member.split('/')[2] as string));
    }
    expect(readdirSync(join(folder, 'cifar10/train'))).toHaveLength(10);
    return { images, labels };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Trains `model` on one fixed batch with Adam and returns the loss before and after. */
function lossesOverSteps(
  model: tfl.LayersModel,
  images: tf.Tensor4D,
  labels: tf.Tensor2D,
  steps: number,
): number[] {
  const optimizer = tf.train.adam(1e-3);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = optimizer.minimize(
      () =>
        tf.losses.softmaxCrossEntropy(
          labels,
          model.apply(images, { training: true }) as tf.Tensor,
        ) as tf.Scalar,
      true,
    ) as tf.Scalar;
    losses.push(loss.dataSync()[0] as number);
    loss.dispose();
  }
  optimizer.dispose();
  return losses;
}

describe.skipIf(!archive)(
  'model.fit-style training on wasm lowers the loss on real CIFAR-10 images',
  () => {
    let batch: { images: Float32Array; labels: number[] };

    beforeAll(async () => {
      await tf.setBackend('wasm');
      registerWasmGradients();
      batch = await realBatch(archive as string, 2);
    });

    afterAll(() => {
      tf.disposeVariables();
    });

    const nets: Array<{ name: string; build: () => tfl.LayersModel; size: number; steps: number }> =
      [
        {
          name: 'seed CNN',
          build: () => seedCnn({ seed: 7, classifierActivation: 'linear' }),
          size: 32,
          steps: 12,
        },
        {
          name: 'ResNet-9',
          build: () => resNet9({ seed: 7, classifierActivation: 'linear' }),
          size: 32,
          steps: 5,
        },
        {
          name: 'MobileNetV2 0.35 96x96',
          build: () =>
            mobileNetV2({
              alpha: 0.35,
              inputShape: [96, 96, 3],
              classes: 10,
              seed: 7,
              classifierActivation: 'linear',
            }),
          size: 96,
          steps: 6,
        },
      ];

    for (const net of nets) {
      it(`${net.name}: loss falls and no tensors leak across steps`, () => {
        const model = net.build();
        const count = batch.labels.length;
        const images = tf.tidy(() => {
          const small = tf.tensor4d(batch.images, [count, 32, 32, 3]);
          return net.size === 32 ? small : tf.image.resizeBilinear(small, [net.size, net.size]);
        });
        const labels = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), 10).toFloat() as tf.Tensor2D;
        lossesOverSteps(model, images, labels, 1); // creates optimizer slots and XNNPACK operators
        const tensorsBefore = tf.memory().numTensors;
        const losses = lossesOverSteps(model, images, labels, net.steps);
        expect(
          tf.memory().numTensors - tensorsBefore,
          'tensors left behind by training steps',
        ).toBeLessThanOrEqual(0);
        expect(losses.every(Number.isFinite)).toBe(true);
        expect(
          losses.at(-1) as number,
          `losses ${losses.map((loss) => loss.toFixed(3)).join(' → ')}`,
        ).toBeLessThan((losses[0] as number) * 0.8);
        tf.dispose([images, labels]);
        model.dispose();
        // Seconds of convolution on one core; a CI machine running other suites beside it needs room.
      }, 240_000);
    }
  },
);
