import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AugmentDraws,
  type AugmentOptions,
  alternatingFlip,
  augmentBatch,
  drawAugmentation,
  ImgclsError,
  type PreprocessPreset,
  sampleBeta,
  seededRandom,
  validateAugmentOptions,
} from '../src/index';

const preset: PreprocessPreset = {
  height: 6,
  width: 5,
  resize: 'stretch',
  range: [0, 1],
  mean: [0.5, 0.4, 0.3],
  std: [0.2, 0.25, 0.3],
};
const [H, W] = [6, 5];

/** A batch of pseudo-random pixels 0..255, from its own generator (not the one under test). */
function pixelsOf(count: number): number[] {
  let state = 12345;
  return Array.from({ length: count * H * W * 3 }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % 256;
  });
}

/**
 * Reference in plain loops, written from the documented semantics (torchvision ColorJitter, reflect
 * padding, cutout squares clipped at the border), independent of the tensor implementation.
 */
function reference(pixels: number[], draws: AugmentDraws, options: AugmentOptions): number[] {
  const count = draws.images.length;
  const at = (image: number, row: number, column: number, channel: number) =>
    ((image * H + row) * W + column) * 3 + channel;
  const grey = (values: number[], image: number, row: number, column: number) =>
    0.299 * (values[at(image, row, column, 0)] as number) +
    0.587 * (values[at(image, row, column, 1)] as number) +
    0.114 * (values[at(image, row, column, 2)] as number);
  const clamp = (value: number) => Math.min(255, Math.max(0, value));
  let values = [...pixels];
  for (let image = 0; image < count; image++) {
    const draw = draws.images[image] as (typeof draws.images)[number];
    const indices = Array.from({ length: H * W * 3 }, (_, offset) => at(image, 0, 0, 0) + offset);
    if (options.brightness)
      for (const i of indices) values[i] = clamp((values[i] as number) * draw.brightness);
    if (options.contrast) {
      let sum = 0;
      for (let row = 0; row < H; row++)
        for (let column = 0; column < W; column++) sum += grey(values, image, row, column);
      const mean = sum / (H * W);
      for (const i of indices)
        values[i] = clamp(((values[i] as number) - mean) * draw.contrast + mean);
    }
    if (options.saturation) {
      const next = [...values];
      for (let row = 0; row < H; row++)
        for (let column = 0; column < W; column++) {
          const g = grey(values, image, row, column);
          for (let channel = 0; channel < 3; channel++) {
            const i = at(image, row, column, channel);
            next[i] = clamp(((values[i] as number) - g) * draw.saturation + g);
          }
        }
      values = next;
    }
  }
  const normalised = values.map((value, i) => {
    const channel = i % 3;
    return (value / 255 - (preset.mean?.[channel] as number)) / (preset.std?.[channel] as number);
  });
  const pad = options.cropPadding ?? 0;
  const reflect = (index: number, size: number) =>
    index < 0 ? -index : index >= size ? 2 * (size - 1) - index : index;
  const out = new Array<number>(normalised.length);
  for (let image = 0; image < count; image++) {
    const draw = draws.images[image] as (typeof draws.images)[number];
    const half = Math.floor((options.cutout ?? 0) / 2);
    const [cutRow, cutColumn] = draw.cutoutCenter;
    for (let row = 0; row < H; row++)
      for (let column = 0; column < W; column++) {
        const flipped = options.horizontalFlip && draw.flip ? W - 1 - column : column;
        const sourceRow = reflect(row + draw.top - pad, H);
        const sourceColumn = reflect(flipped + draw.left - pad, W);
        const cut =
          (options.cutout ?? 0) > 0 &&
          row >= cutRow - half &&
          row < cutRow - half + (options.cutout as number) &&
          column >= cutColumn - half &&
          column < cutColumn - half + (options.cutout as number);
        for (let channel = 0; channel < 3; channel++)
          out[at(image, row, column, channel)] = cut
            ? 0
            : (normalised[at(image, sourceRow, sourceColumn, channel)] as number);
      }
  }
  return out;
}

function run(count: number, options: AugmentOptions, seed: number, labelValues?: number[]) {
  const draws = drawAugmentation(count, H, W, options, seededRandom(seed));
  const pixels = tf.tensor4d(pixelsOf(count), [count, H, W, 3], 'int32');
  const labels = tf.tensor1d(
    labelValues ?? Array.from({ length: count }, (_, i) => i % 3),
    'int32',
  );
  const result = augmentBatch(pixels, labels, { preset, numClasses: 3, options, draws });
  const output = {
    draws,
    images: Array.from(result.images.dataSync()),
    labels: result.labels.arraySync() as number[] | number[][],
    labelShape: result.labels.shape,
  };
  tf.dispose([pixels, labels, result.images, result.labels]);
  return output;
}

const everything: AugmentOptions = {
  cropPadding: 2,
  horizontalFlip: true,
  cutout: 3,
  brightness: 0.4,
  contrast: 0.4,
  saturation: 0.4,
};

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`augmentBatch on ${backend}`, () => {
    beforeAll(async () => {
      if (backend === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
      await tf.setBackend(backend);
    });

    it('matches a plain-loop reference of jitter, normalisation, reflect crop, flip and cutout', () => {
      for (const [seed, options] of [
        [1, everything],
        [2, { cropPadding: 4, horizontalFlip: true }],
        [3, { cutout: 8 }],
        [4, { saturation: 0.9, contrast: 0.1 }],
      ] as const) {
        const { draws, images } = run(4, options, seed);
        const expected = reference(pixelsOf(4), draws, options);
        for (const [i, value] of images.entries())
          expect(value).toBeCloseTo(expected[i] as number, 3);
      }
    });

    it('is deterministic by seed and leaves integer labels unchanged', () => {
      const first = run(8, everything, 7, [2, 0, 1, 1, 2, 0, 0, 1]);
      const again = run(8, everything, 7, [2, 0, 1, 1, 2, 0, 0, 1]);
      expect(again.images).toEqual(first.images);
      expect(first.labels).toEqual([2, 0, 1, 1, 2, 0, 0, 1]);
      expect(run(8, everything, 8).images).not.toEqual(first.images);
    });

    it('mixes images and labels by the same weight with mixup', () => {
      const options = { mixup: 0.4 };
      const { draws, images, labels, labelShape } = run(5, options, 11, [0, 1, 2, 0, 1]);
      const mix = draws.mix as NonNullable<AugmentDraws['mix']>;
      expect(mix.kind).toBe('mixup');
      expect(labelShape).toEqual([5, 3]);
      const plain = reference(pixelsOf(5), { images: draws.images }, {});
      const size = H * W * 3;
      const original = [0, 1, 2, 0, 1];
      (labels as number[][]).forEach((row, image) => {
        const partner = mix.partners[image] as number;
        const expected = [0, 1, 2].map(
          (k) =>
            (original[image] === k ? mix.lambda : 0) +
            (original[partner] === k ? 1 - mix.lambda : 0),
        );
        for (const [k, p] of row.entries()) expect(p).toBeCloseTo(expected[k] as number, 5);
        for (let i = 0; i < size; i++)
          expect(images[image * size + i]).toBeCloseTo(
            mix.lambda * (plain[image * size + i] as number) +
              (1 - mix.lambda) * (plain[partner * size + i] as number),
            3,
          );
      });
    });

    it("pastes a partner's box with CutMix and weights labels by the pasted area", () => {
      const options = { cutmix: 1 };
      for (const seed of [21, 22, 23]) {
        const { draws, images, labels } = run(4, options, seed, [0, 1, 2, 0]);
        const mix = draws.mix as NonNullable<AugmentDraws['mix']>;
        const [top, left, boxHeight, boxWidth] = mix.box as readonly number[];
        expect(mix.lambda).toBeCloseTo(
          1 - ((boxHeight as number) * (boxWidth as number)) / (H * W),
          10,
        );
        const plain = reference(pixelsOf(4), { images: draws.images }, {});
        for (let image = 0; image < 4; image++) {
          const partner = mix.partners[image] as number;
          for (let row = 0; row < H; row++)
            for (let column = 0; column < W; column++) {
              const inside =
                row >= (top as number) &&
                row < (top as number) + (boxHeight as number) &&
                column >= (left as number) &&
                column < (left as number) + (boxWidth as number);
              const i = ((row * W + column) * 3 + 1) as number;
              expect(images[image * H * W * 3 + i]).toBeCloseTo(
                plain[(inside ? partner : image) * H * W * 3 + i] as number,
                4,
              );
            }
          const sum = (labels as number[][])[image]?.reduce((a, b) => a + b, 0);
          expect(sum).toBeCloseTo(1, 6);
        }
      }
    });

    it('refuses a crop padding the image is too small to reflect', () => {
      expect(() => run(2, { cropPadding: 5 }, 1)).toThrow(/smaller than the image/);
    });

    it('keeps the tensor count flat across repeated batches', () => {
      run(4, { ...everything, mixup: 0.2, cutmix: 1 }, 1);
      const before = tf.memory().numTensors;
      for (let seed = 0; seed < 5; seed++) run(4, { ...everything, mixup: 0.2, cutmix: 1 }, seed);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('seeded random draws', () => {
  it('repeats a sequence for the same state and is roughly uniform', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const values = Array.from({ length: 20_000 }, () => a());
    expect(Array.from({ length: 20_000 }, () => b())).toEqual(values);
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
  });

  it('samples Beta(α, α) with the right mean and variance', () => {
    for (const alpha of [0.2, 1, 3]) {
      const random = seededRandom(alpha * 1000);
      const samples = Array.from({ length: 20_000 }, () => sampleBeta(alpha, random));
      const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
      const variance =
        samples.reduce((sum, value) => sum + (value - mean) ** 2, 0) / samples.length;
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
      // Var Beta(α, α) = 1 / (4 (2α + 1)).
      expect(variance).toBeCloseTo(1 / (4 * (2 * alpha + 1)), 2);
    }
  });

  it('changes no crop when another option is turned on', () => {
    const plain = drawAugmentation(6, H, W, { cropPadding: 2 }, seededRandom(5));
    const more = drawAugmentation(
      6,
      H,
      W,
      { cropPadding: 2, cutout: 2, brightness: 0.3 },
      seededRandom(5),
    );
    expect(more.images.map((d) => [d.top, d.left, d.flip])).toEqual(
      plain.images.map((d) => [d.top, d.left, d.flip]),
    );
  });

  it('alternates flips: each example mirrored in every other epoch, half of them from the first', () => {
    const indices = Array.from({ length: 200 }, (_, index) => index);
    const inEpoch = (epoch: number) =>
      drawAugmentation(
        200,
        H,
        W,
        { cropPadding: 2, horizontalFlip: 'alternate' },
        seededRandom(3),
        {
          indices,
          epoch,
          seed: 7,
        },
      ).images.map((draw) => draw.flip);
    const [first, second, third] = [inEpoch(0), inEpoch(1), inEpoch(2)];
    expect(first).toEqual(indices.map((index) => alternatingFlip(7, index, 0)));
    expect(second).toEqual(first.map((flip) => !flip));
    expect(third).toEqual(first);
    const mirrored = first.filter(Boolean).length;
    expect(mirrored).toBeGreaterThan(70);
    expect(mirrored).toBeLessThan(130);
    // The crops are those random flips would have drawn: alternating changes the flips only.
    const random = drawAugmentation(
      200,
      H,
      W,
      { cropPadding: 2, horizontalFlip: true },
      seededRandom(3),
    );
    const crops = (draws: AugmentDraws) => draws.images.map((draw) => [draw.top, draw.left]);
    expect(
      crops(
        drawAugmentation(
          200,
          H,
          W,
          { cropPadding: 2, horizontalFlip: 'alternate' },
          seededRandom(3),
        ),
      ),
    ).toEqual(crops(random));
  });

  it('rejects options out of range with a typed error', () => {
    for (const options of [
      { horizontalFlip: 'sometimes' as unknown as boolean },
      { cropPadding: -1 },
      { cutout: 2.5 },
      { brightness: 1 },
      { mixup: -0.1 },
    ]) {
      let error: unknown;
      try {
        validateAugmentOptions(options);
      } catch (thrown) {
        error = thrown;
      }
      expect(ImgclsError.isInstance(error, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
