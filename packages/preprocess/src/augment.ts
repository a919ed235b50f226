import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from './errors';
import type { PreprocessPreset } from './preset';
import { hashSeed, type Random, sampleBeta } from './random';
import { normalize } from './tensor';

/** Train-time augmentation. Every field is optional and off when absent or 0. */
export interface AugmentOptions {
  /** Pixels of reflect padding before a random crop back to the input size (CIFAR: 4). */
  readonly cropPadding?: number;
  /**
   * Mirror each image left-right: `true` with probability ½ per draw; `'alternate'` (airbench) in every
   * other epoch, each example starting mirrored or not by a seeded coin, so every epoch pair shows both
   * sides once (needs the examples' indices and the epoch: see {@link FlipContext}).
   */
  readonly horizontalFlip?: boolean | 'alternate';
  /**
   * Side in pixels of a square set to 0 after normalisation (the dataset mean for standardised presets),
   * centred anywhere in the image and clipped at its border (cutout, DeVries & Taylor 2017).
   */
  readonly cutout?: number;
  /** Brightness jitter in [0, 1): pixels are scaled by a factor drawn from [1 − b, 1 + b]. */
  readonly brightness?: number;
  /** Contrast jitter in [0, 1): distance to the image's mean grey scaled by a factor in [1 − c, 1 + c]. */
  readonly contrast?: number;
  /** Saturation jitter in [0, 1): distance to each pixel's grey scaled by a factor in [1 − s, 1 + s]. */
  readonly saturation?: number;
  /** mixup α (Zhang et al. 2018): blend each image with another of the batch by λ ~ Beta(α, α). */
  readonly mixup?: number;
  /** CutMix α (Yun et al. 2019): paste a box of another image, of area share 1 − λ, λ ~ Beta(α, α). */
  readonly cutmix?: number;
}

/** What alternating flips depend on: the examples' dataset indices, the epoch, and a seed. */
export interface FlipContext {
  readonly indices: readonly number[];
  readonly epoch: number;
  readonly seed: number;
}

/** Whether example `index` is mirrored in `epoch` under alternating flips: a seeded coin, reversed on odd epochs. */
export function alternatingFlip(seed: number, index: number, epoch: number): boolean {
  return ((hashSeed(seed, index) & 1) === 1) !== (epoch % 2 === 1);
}

/** The random choices for one image, drawn by {@link drawAugmentation}. */
export interface ImageDraw {
  /** Crop offset inside the padded image, each in [0, 2·cropPadding]. */
  readonly top: number;
  readonly left: number;
  readonly flip: boolean;
  /** Centre (row, column) of the cutout square. */
  readonly cutoutCenter: readonly [number, number];
  /** Jitter factors (1 = unchanged). */
  readonly brightness: number;
  readonly contrast: number;
  readonly saturation: number;
}

/** The random choices that mix a batch (mixup or CutMix). */
export interface MixDraw {
  readonly kind: 'mixup' | 'cutmix';
  /** Row whose image and label are mixed into each row. */
  readonly partners: readonly number[];
  /** Weight of each row's own image and label; for CutMix, 1 − the pasted box's share of the area. */
  readonly lambda: number;
  /** CutMix: the pasted box as [top, left, height, width]. */
  readonly box?: readonly [number, number, number, number];
}

/** Every random choice of one augmented batch: plain numbers, so a batch is reproducible from them. */
export interface AugmentDraws {
  readonly images: readonly ImageDraw[];
  readonly mix?: MixDraw;
}

/** The grey value weights of ITU-R BT.601 (as torchvision's `rgb_to_grayscale`). */
const GREY_WEIGHTS = [0.299, 0.587, 0.114];

/**
 * Checks augmentation options at the boundary.
 *
 * @throws InvalidArgumentError naming the first option out of range.
 */
export function validateAugmentOptions(options: AugmentOptions): void {
  const check = (name: string, value: number | undefined, ok: (value: number) => boolean) => {
    if (value !== undefined && !(Number.isFinite(value) && ok(value)))
      throw new InvalidArgumentError(`Augmentation ${name} is out of range: ${value}.`);
  };
  check(
    'cropPadding (whole pixels ≥ 0)',
    options.cropPadding,
    (v) => Number.isInteger(v) && v >= 0,
  );
  check('cutout (whole pixels ≥ 0)', options.cutout, (v) => Number.isInteger(v) && v >= 0);
  const flip = options.horizontalFlip;
  if (flip !== undefined && typeof flip !== 'boolean' && flip !== 'alternate')
    throw new InvalidArgumentError(
      `Augmentation horizontalFlip must be true, false or 'alternate', got ${JSON.stringify(flip)}.`,
    );
  for (const name of ['brightness', 'contrast', 'saturation'] as const)
    check(`${name} (0 ≤ strength < 1)`, options[name], (v) => v >= 0 && v < 1);
  for (const name of ['mixup', 'cutmix'] as const)
    check(`${name} (alpha ≥ 0)`, options[name], (v) => v >= 0);
}

const factor = (strength: number | undefined, random: Random) =>
  1 + (strength ?? 0) * (2 * random() - 1);

/**
 * Draws the random choices for a batch of `count` images of `height` × `width`. Each image always consumes
 * the same numbers in the same order (crop, flip, cutout, jitter), so turning one option on never changes
 * the choices of another; the mix is drawn after all images. With `horizontalFlip: 'alternate'` the flips
 * come from `flips` ({@link alternatingFlip}); without it, epoch 0 of examples 0…count−1.
 */
export function drawAugmentation(
  count: number,
  height: number,
  width: number,
  options: AugmentOptions,
  random: Random,
  flips?: FlipContext,
): AugmentDraws {
  const span = 2 * (options.cropPadding ?? 0) + 1;
  const images = Array.from({ length: count }, (_, image): ImageDraw => {
    const top = Math.floor(random() * span);
    const left = Math.floor(random() * span);
    const coin = random() < 0.5;
    const flip =
      options.horizontalFlip === 'alternate'
        ? alternatingFlip(flips?.seed ?? 0, flips?.indices[image] ?? image, flips?.epoch ?? 0)
        : coin;
    const cutoutCenter = [Math.floor(random() * height), Math.floor(random() * width)] as const;
    return {
      top,
      left,
      flip,
      cutoutCenter,
      brightness: factor(options.brightness, random),
      contrast: factor(options.contrast, random),
      saturation: factor(options.saturation, random),
    };
  });
  const mixup = options.mixup ?? 0;
  const cutmix = options.cutmix ?? 0;
  if (mixup <= 0 && cutmix <= 0) return { images };
  const kind = mixup > 0 && (cutmix <= 0 || random() < 0.5) ? 'mixup' : 'cutmix';
  const partners = Array.from({ length: count }, (_, index) => index);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [partners[i], partners[j]] = [partners[j] as number, partners[i] as number];
  }
  const lambda = sampleBeta(kind === 'mixup' ? mixup : cutmix, random);
  if (kind === 'mixup') return { images, mix: { kind, partners, lambda } };
  const ratio = Math.sqrt(1 - lambda);
  const boxHeight = Math.floor(height * ratio);
  const boxWidth = Math.floor(width * ratio);
  const centreRow = Math.floor(random() * height);
  const centreColumn = Math.floor(random() * width);
  const top = Math.max(0, centreRow - Math.floor(boxHeight / 2));
  const left = Math.max(0, centreColumn - Math.floor(boxWidth / 2));
  const bottom = Math.min(height, centreRow + Math.ceil(boxHeight / 2));
  const right = Math.min(width, centreColumn + Math.ceil(boxWidth / 2));
  const box = [top, left, bottom - top, right - left] as const;
  // The label weight follows the box actually pasted, after clipping at the border.
  const pasted = ((bottom - top) * (right - left)) / (height * width);
  return { images, mix: { kind, partners, lambda: 1 - pasted, box } };
}

/** A [n, h, w, 1] float mask that is `inside` in each image's box and `outside` elsewhere. */
function boxMask(
  count: number,
  height: number,
  width: number,
  boxes: ReadonlyArray<readonly [number, number, number, number]>,
  inside: number,
  outside: number,
): tf.Tensor4D {
  const mask = new Float32Array(count * height * width).fill(outside);
  boxes.forEach(([top, left, boxHeight, boxWidth], image) => {
    for (let row = top; row < top + boxHeight; row++) {
      const start = (image * height + row) * width;
      mask.fill(inside, start + left, start + left + boxWidth);
    }
  });
  return tf.tensor4d(mask, [count, height, width, 1]);
}

function jitter(pixels: tf.Tensor4D, draws: readonly ImageDraw[], options: AugmentOptions) {
  const count = draws.length;
  const perImage = (pick: (draw: ImageDraw) => number) =>
    tf.tensor4d(draws.map(pick), [count, 1, 1, 1]);
  const grey = (images: tf.Tensor) => tf.sum(tf.mul(images, GREY_WEIGHTS), -1, true);
  let images: tf.Tensor = pixels;
  // torchvision's order and clamping: brightness, contrast, saturation, each clamped to the pixel range.
  if (options.brightness)
    images = tf.clipByValue(
      tf.mul(
        images,
        perImage((draw) => draw.brightness),
      ),
      0,
      255,
    );
  if (options.contrast) {
    const meanGrey = tf.mean(grey(images), [1, 2, 3], true);
    const contrast = perImage((draw) => draw.contrast);
    images = tf.clipByValue(tf.add(tf.mul(tf.sub(images, meanGrey), contrast), meanGrey), 0, 255);
  }
  if (options.saturation) {
    const pixelGrey = grey(images);
    const saturation = perImage((draw) => draw.saturation);
    images = tf.clipByValue(
      tf.add(tf.mul(tf.sub(images, pixelGrey), saturation), pixelGrey),
      0,
      255,
    );
  }
  return images as tf.Tensor4D;
}

/** Reflects an index into [0, size) without repeating the edge (NumPy's and TF's `reflect` padding). */
const reflect = (index: number, size: number) =>
  index < 0 ? -index : index >= size ? 2 * (size - 1) - index : index;

/**
 * Crop after reflect padding and flip, as one gather: each output pixel's source is computed here, which
 * is several times faster on wasm than padding, slicing and flipping image by image.
 */
function cropAndFlip(images: tf.Tensor4D, draws: readonly ImageDraw[], options: AugmentOptions) {
  const [count, height, width, channels] = images.shape;
  const pad = options.cropPadding ?? 0;
  const sources = new Int32Array(count * height * width);
  let at = 0;
  draws.forEach((draw, image) => {
    const flip = Boolean(options.horizontalFlip) && draw.flip;
    for (let row = 0; row < height; row++) {
      const sourceRow = (image * height + reflect(row + draw.top - pad, height)) * width;
      for (let column = 0; column < width; column++) {
        const shown = flip ? width - 1 - column : column;
        sources[at++] = sourceRow + reflect(shown + draw.left - pad, width);
      }
    }
  });
  const pixels = tf.reshape(images, [count * height * width, channels]);
  return tf.reshape(tf.gather(pixels, tf.tensor1d(sources, 'int32')), [
    count,
    height,
    width,
    channels,
  ]) as tf.Tensor4D;
}

function cutoutBoxes(
  draws: readonly ImageDraw[],
  size: number,
  height: number,
  width: number,
): Array<[number, number, number, number]> {
  return draws.map(({ cutoutCenter: [row, column] }) => {
    const top = Math.max(0, row - Math.floor(size / 2));
    const left = Math.max(0, column - Math.floor(size / 2));
    const bottom = Math.min(height, row - Math.floor(size / 2) + size);
    const right = Math.min(width, column - Math.floor(size / 2) + size);
    return [top, left, bottom - top, right - left];
  });
}

/**
 * Normalises a batch of pixels with the model's preset (the one serving uses) and augments it with the
 * given draws: colour jitter on the 0..255 pixels, then normalisation, crop after reflect padding, flip,
 * cutout, and finally mixup or CutMix, which turn the integer labels into class probabilities
 * `[n, numClasses]`. Without a mix the labels are returned as they came (a new int32 tensor). Pure
 * tensor ops inside `tf.tidy`; the caller owns (and disposes) both results.
 *
 * @param pixels - `[n, h, w, 3]` values in 0..255 (int32 or float32).
 * @param labels - `[n]` integer class indices.
 */
export function augmentBatch(
  pixels: tf.Tensor4D,
  labels: tf.Tensor1D,
  config: {
    readonly preset: PreprocessPreset;
    readonly numClasses: number;
    readonly options: AugmentOptions;
    readonly draws: AugmentDraws;
  },
): { images: tf.Tensor4D; labels: tf.Tensor1D | tf.Tensor2D } {
  const { preset, numClasses, options, draws } = config;
  const [count, height, width] = pixels.shape;
  if (draws.images.length !== count)
    throw new InvalidArgumentError(
      `augmentBatch got draws for ${draws.images.length} images and a batch of ${count}.`,
    );
  if ((options.cropPadding ?? 0) >= Math.min(height, width))
    throw new InvalidArgumentError(
      `cropPadding ${options.cropPadding} must be smaller than the image (${height}x${width}) to reflect.`,
    );
  return tf.tidy(() => {
    const coloured =
      options.brightness || options.contrast || options.saturation
        ? jitter(tf.cast(pixels, 'float32') as tf.Tensor4D, draws.images, options)
        : pixels;
    let images = normalize(coloured, preset) as tf.Tensor4D;
    if (options.cropPadding || options.horizontalFlip)
      images = cropAndFlip(images, draws.images, options);
    if (options.cutout) {
      const boxes = cutoutBoxes(draws.images, options.cutout, height, width);
      images = tf.mul(images, boxMask(count, height, width, boxes, 0, 1));
    }
    const { mix } = draws;
    if (!mix) return { images, labels: tf.cast(labels, 'int32') as tf.Tensor1D };
    const partners = tf.tensor1d([...mix.partners], 'int32');
    const others = tf.gather(images, partners);
    const mixed =
      mix.kind === 'mixup'
        ? tf.add(tf.mul(images, mix.lambda), tf.mul(others, 1 - mix.lambda))
        : tf.add(
            images,
            tf.mul(
              tf.sub(others, images),
              boxMask(1, height, width, [mix.box ?? [0, 0, 0, 0]], 1, 0),
            ),
          );
    const own = tf.cast(tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, numClasses), 'float32');
    const targets = tf.add(
      tf.mul(own, mix.lambda),
      tf.mul(tf.gather(own, partners), 1 - mix.lambda),
    ) as tf.Tensor2D;
    return { images: mixed as tf.Tensor4D, labels: targets };
  });
}
