import { InvalidArgumentError } from '@imgcls/preprocess/errors';
import * as tfl from '@tensorflow/tfjs-layers';

/** Options every architecture builder shares. */
export interface CommonOptions {
  /** Input [height, width, channels]; channels must be 3. */
  readonly inputShape?: readonly [number, number, number];
  /** Number of output classes (units of the final dense layer). */
  readonly classes?: number;
  /** Activation of the final layer: `'softmax'` for probabilities, `'linear'` for logits. */
  readonly classifierActivation?: 'softmax' | 'linear';
  /**
   * Seed for weight initialisation. With a seed, two builds have identical weights; without one,
   * TF.js draws fresh random weights.
   */
  readonly seed?: number;
}

/** Throws a typed error naming `option` unless `value` is an integer in [min, max]. */
export function checkInteger(option: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      `${option} must be an integer from ${min} to ${max}, got ${value}.`,
    );
  }
}

/** Validates an input shape: RGB, at least `minSide` pixels per side. */
export function checkInputShape(
  shape: readonly number[],
  minSide: number,
): [number, number, number] {
  if (shape.length !== 3) {
    throw new InvalidArgumentError(
      `inputShape must be [height, width, 3], got [${shape.join(', ')}].`,
    );
  }
  const [height, width, channels] = shape as [number, number, number];
  checkInteger('inputShape height', height, minSide, 4096);
  checkInteger('inputShape width', width, minSide, 4096);
  if (channels !== 3)
    throw new InvalidArgumentError(`inputShape channels must be 3 (RGB), got ${channels}.`);
  return [height, width, channels];
}

/**
 * Hands out kernel initialisers: seeded ones (a fresh seed per layer, so layers differ) when a seed is
 * given, otherwise the layer's default.
 */
export function initializers(seed: number | undefined) {
  let next = seed ?? 0;
  return {
    /** Glorot-uniform, the Keras default for convolutions. */
    conv: () => (seed === undefined ? undefined : tfl.initializers.glorotUniform({ seed: next++ })),
    /** Glorot-uniform, the Keras default for dense layers. */
    dense: () =>
      seed === undefined ? undefined : tfl.initializers.glorotUniform({ seed: next++ }),
  };
}

/** The final dense layer of every classifier here, named `predictions` as in Keras. */
export function classifierHead(
  x: tfl.SymbolicTensor,
  classes: number,
  activation: CommonOptions['classifierActivation'],
  init: ReturnType<typeof initializers>,
): tfl.SymbolicTensor {
  return tfl.layers
    .dense({
      units: classes,
      activation: activation ?? 'softmax',
      name: 'predictions',
      kernelInitializer: init.dense(),
    })
    .apply(x) as tfl.SymbolicTensor;
}
