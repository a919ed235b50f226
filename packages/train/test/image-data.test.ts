import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImgclsError } from '@imgcls/preprocess';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageSetData, readImageArchive, splitIndices } from '../src/index';

/** A tar.gz of `root/<split>/<class>/<n>.png` solid-colour images, made with sharp and the tar CLI. */
async function archive(sizes: Record<string, number> = {}): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), 'imgcls-archive-'));
  const colours: Record<string, [number, number, number]> = {
    cat: [200, 10, 10],
    dog: [10, 200, 10],
    ship: [10, 10, 200],
  };
  for (const split of ['train', 'test']) {
    for (const [name, [r, g, b]] of Object.entries(colours)) {
      mkdirSync(join(folder, 'data', split, name), { recursive: true });
      for (let i = 0; i < 4; i++) {
        const size = sizes[`${split}/${name}/${i}`] ?? 8;
        const png = await sharp({
          create: { width: size, height: size, channels: 3, background: { r: r + i, g, b } },
        })
          .png()
          .toBuffer();
        writeFileSync(join(folder, 'data', split, name, `${i}.png`), png);
      }
    }
  }
  execFileSync('tar', ['-czf', join(folder, 'data.tar.gz'), '-C', folder, 'data']);
  return join(folder, 'data.tar.gz');
}

describe('image-folder archives as training data', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('reads a split with sorted class folders and decoded pixels', async () => {
    const set = await readImageArchive(await archive(), 'train');
    expect([set.count, set.width, set.height]).toEqual([12, 8, 8]);
    expect(set.classes).toEqual(['cat', 'dog', 'ship']);
    const firstDog = Array.from(set.labels).indexOf(1);
    const [red, green, blue] = Array.from(set.pixels.subarray(firstDog * 192, firstDog * 192 + 3));
    expect([green, blue]).toEqual([200, 10]);
    expect(red).toBeGreaterThanOrEqual(10);
    expect(red).toBeLessThanOrEqual(13);
  });

  it('rejects images of different sizes and missing splits with typed errors', async () => {
    const mixed = await archive({ 'train/dog/2': 9 });
    const error = await readImageArchive(mixed, 'train').catch((thrown: unknown) => thrown);
    expect(ImgclsError.isInstance(error, 'DATASET_FORMAT')).toBe(true);
    expect(
      ImgclsError.isInstance(
        await readImageArchive(mixed, 'validation').catch((thrown: unknown) => thrown),
        'DATASET_FORMAT',
      ),
    ).toBe(true);
  });

  it('splits indices disjointly and reproducibly by seed', () => {
    const first = splitIndices(100, 0.2, 7);
    expect(first.validation).toHaveLength(20);
    expect([...first.train, ...first.validation].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    );
    expect(splitIndices(100, 0.2, 7)).toEqual(first);
    expect(splitIndices(100, 0.2, 8).validation).not.toEqual(first.validation);
  });

  it('normalises with the preset and augments deterministically, preserving labels', async () => {
    const set = await readImageArchive(await archive(), 'train');
    const preset = { height: 8, width: 8, resize: 'stretch', range: [0, 1] } as const;
    const plain = imageSetData(set, [0, 5, 9], preset);
    const { images, labels } = plain.batch([0, 1, 2]);
    expect(images.shape).toEqual([3, 8, 8, 3]);
    expect(Array.from(labels.dataSync())).toEqual([set.labels[0], set.labels[5], set.labels[9]]);
    expect(tf.max(images).dataSync()[0]).toBeLessThanOrEqual(1);
    const augmented = imageSetData(
      set,
      Array.from({ length: 12 }, (_, i) => i),
      preset,
      { cropPadding: 2, horizontalFlip: true, seed: 3 },
    );
    const a = augmented.batch([0, 1, 2, 3]);
    const b = augmented.batch([0, 1, 2, 3]);
    expect(Array.from(a.images.dataSync())).toEqual(Array.from(b.images.dataSync()));
    expect(Array.from(a.labels.dataSync())).toEqual(Array.from(set.labels.subarray(0, 4)));
    // Solid images stay solid under crops with reflect padding and flips: augmentation moves pixels, never invents them.
    const before = tf.memory().numTensors;
    const c = augmented.batch([4, 5, 6, 7]);
    expect(tf.memory().numTensors - before).toBe(2);
    tf.dispose([images, labels, a.images, a.labels, b.images, b.labels, c.images, c.labels]);
  });
});
