import { QuantizationError } from '../errors';

/** Number of steps between the lowest and highest uint8 code. */
const LEVELS = 255;

/** A tensor stored as uint8 codes that TF.js' loader turns back into `code * scale + min`. */
export interface AffineUint8 {
  readonly codes: Uint8Array;
  /** The value of code 0. */
  readonly min: number;
  /** The value step between consecutive codes. */
  readonly scale: number;
}

/**
 * Per-tensor affine uint8 quantisation of float32 weights, in the form TF.js' loader dequantises
 * (`value = code * scale + min`).
 *
 * When the tensor's range covers zero, zero is made exactly representable: min is nudged to a whole
 * number of steps below zero. Exact zeros matter for weights: a pruned or never-updated weight (an
 * unused unit's bias, a zero-initialised bias that stayed zero) must stay 0 instead of becoming a
 * small constant offset repeated across every channel. The TF.js converter's Python quantiser and
 * TFLite nudge the same way, but keep 255 intervals and clip, so a value at the far end can be off by a
 * whole step; here the step is taken over 254 intervals so the nudged range still covers both ends and
 * every weight is within half a step of its dequantised value, for a step 0.4% coarser.
 * Ranges that do not cover zero (e.g. all-positive scales) use all 255 steps between min and max.
 *
 * @throws QuantizationError when a value is NaN or infinite (uint8 cannot hold it).
 */
export function affineUint8(values: Float32Array, name = 'a weight'): AffineUint8 {
  let lowest = Number.POSITIVE_INFINITY;
  let highest = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (!Number.isFinite(value))
      throw new QuantizationError(
        `${name} holds ${value}, which uint8 quantisation cannot represent: fix the model's weights, or export with float16.`,
      );
    if (value < lowest) lowest = value;
    if (value > highest) highest = value;
  }
  const codes = new Uint8Array(values.length);
  if (values.length === 0 || lowest === highest) {
    // One value (or none): code 0 decodes to it exactly.
    return { codes, min: values.length === 0 ? 0 : lowest, scale: 1 };
  }
  let min = lowest;
  let scale = (highest - lowest) / LEVELS;
  if (lowest <= 0 && highest >= 0) {
    scale = (highest - lowest) / (LEVELS - 1);
    const zeroCode = Math.round(-lowest / scale);
    // -(zeroCode * scale) is the exact negation of what the loader adds back, so code zeroCode decodes to 0.
    min = -(zeroCode * scale);
  }
  for (let index = 0; index < values.length; index++) {
    codes[index] = Math.min(
      LEVELS,
      Math.max(0, Math.round(((values[index] as number) - min) / scale)),
    );
  }
  return { codes, min, scale };
}
