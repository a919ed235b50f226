import * as tf from '@tensorflow/tfjs-core';

/**
 * The global L2 norm of gradients taken together, √(Σ ‖gᵢ‖²), read back as a number: NaN or
 * infinite when any gradient holds a NaN or infinity.
 */
export function globalNorm(gradients: readonly tf.Tensor[]): number {
  const norm = tf.tidy(() =>
    tf.sqrt(tf.addN(gradients.map((gradient) => tf.sum(tf.square(gradient))))),
  );
  const value = norm.dataSync()[0] as number;
  norm.dispose();
  return value;
}

/**
 * Scales gradients so that their global L2 norm (over all tensors together) is at most `clipNorm`, as
 * PyTorch's `clip_grad_norm_` and Keras' `global_clipnorm` do: each gradient is multiplied by
 * `min(1, clipNorm / ‖g‖)`, so the update keeps its direction. `norm` is {@link globalNorm} of the
 * gradients, when the caller has it already. Returns new tensors the caller owns.
 */
export function clipByGlobalNorm(
  gradients: readonly tf.Tensor[],
  clipNorm: number,
  norm = globalNorm(gradients),
): tf.Tensor[] {
  const scale = Math.min(1, clipNorm / Math.max(norm, 1e-12));
  return gradients.map((gradient) => tf.mul(gradient, scale));
}
