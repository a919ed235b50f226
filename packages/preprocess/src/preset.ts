import { InvalidArgumentError } from './errors';

/** How an image is fitted into a model's input rectangle. */
export type ResizeMode =
  /** Scale each axis independently; the aspect ratio changes. */
  | 'stretch'
  /** Scale the shorter side to the input, then crop the centre; nothing is distorted, edges are lost. */
  | 'center-crop'
  /** Scale the longer side to the input and pad the rest; nothing is lost or distorted. */
  | 'letterbox';

/**
 * Everything a model needs to know about its input, stored in the model's `metadata.json` and read by
 * both training and serving, so that the two can never drift apart.
 *
 * A pixel `p` in [0, 255] becomes `((p / 255) * (range[1] - range[0]) + range[0] - mean[c]) / std[c]`.
 */
export interface PreprocessPreset {
  /** Model input height in pixels. */
  readonly height: number;
  /** Model input width in pixels. */
  readonly width: number;
  /** How images of another shape are fitted into `height` x `width`. */
  readonly resize: ResizeMode;
  /** Value range that pixel intensities 0..255 map to linearly, before mean/std, e.g. `[0, 1]`. */
  readonly range: readonly [number, number];
  /** Per-channel (RGB) mean subtracted after range scaling; zeros when absent. */
  readonly mean?: readonly [number, number, number];
  /** Per-channel (RGB) standard deviation divided by after the mean; ones when absent. */
  readonly std?: readonly [number, number, number];
  /** RGB value that letterbox padding and flattened transparency take, in 0..255. */
  readonly fill?: readonly [number, number, number];
}

/** The presets of the models this project ships and imports. */
export const PRESETS = {
  /** MobileNetV2 (Keras / TF.js conventions): 224x224, centre crop, pixels to [-1, 1]. */
  mobilenetV2: { height: 224, width: 224, resize: 'center-crop', range: [-1, 1] },
  /** Quantized TFLite MobileNet: 224x224, centre crop, raw 0..255 values (the model rescales). */
  mobilenetV2Uint8: { height: 224, width: 224, resize: 'center-crop', range: [0, 255] },
  /** CIFAR-10 networks trained by `@imgcls/train`: 32x32, per-channel standardisation. */
  cifar10: {
    height: 32,
    width: 32,
    resize: 'stretch',
    range: [0, 1],
    mean: [0.4914, 0.4822, 0.4465],
    std: [0.247, 0.2435, 0.2616],
  },
} as const satisfies Record<string, PreprocessPreset>;

/**
 * Checks a preset read from untrusted metadata and returns it typed.
 *
 * @throws InvalidArgumentError naming the first field that is missing or out of range.
 */
export function validatePreset(value: unknown): PreprocessPreset {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError('A preprocessing preset must be an object.');
  }
  const preset = value as Record<string, unknown>;
  for (const side of ['height', 'width'] as const) {
    const size = preset[side];
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 4096) {
      throw new InvalidArgumentError(
        `Preset ${side} must be an integer from 1 to 4096, got ${String(size)}.`,
      );
    }
  }
  const modes: readonly ResizeMode[] = ['stretch', 'center-crop', 'letterbox'];
  if (!modes.includes(preset.resize as ResizeMode)) {
    throw new InvalidArgumentError(
      `Preset resize must be one of ${modes.join(', ')}, got ${String(preset.resize)}.`,
    );
  }
  checkNumberTuple(preset.range, 2, 'range');
  const range = preset.range as [number, number];
  if (range[0] === range[1]) throw new InvalidArgumentError('Preset range must not be empty.');
  if (preset.mean !== undefined) checkNumberTuple(preset.mean, 3, 'mean');
  if (preset.std !== undefined) {
    checkNumberTuple(preset.std, 3, 'std');
    if ((preset.std as number[]).some((deviation) => deviation <= 0)) {
      throw new InvalidArgumentError('Preset std values must be positive.');
    }
  }
  if (preset.fill !== undefined) checkNumberTuple(preset.fill, 3, 'fill');
  return preset as unknown as PreprocessPreset;
}

function checkNumberTuple(value: unknown, length: number, field: string): void {
  if (
    !Array.isArray(value) ||
    value.length !== length ||
    value.some((item) => typeof item !== 'number' || !Number.isFinite(item))
  ) {
    throw new InvalidArgumentError(`Preset ${field} must be ${length} finite numbers.`);
  }
}
