import * as tf from '@tensorflow/tfjs-core';

/**
 * Scales gradients so that their global L2 norm (over all tensors together) is at most `clipNorm`, as
 * PyTorch's `clip_grad_norm_` and Keras' `global_clipnorm` do: each gradient is multiplied by
 * `min(1, clipNorm / ‖g‖)`, so the update keeps its direction. Returns new tensors the caller owns.
 */
export function clipByGlobalNorm(gradients: readonly tf.Tensor[], clipNorm: number): tf.Tensor[] {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(gradients.map((gradient) => tf.sum(tf.square(gradient)))));
    const scale = tf.minimum(tf.div(clipNorm, tf.maximum(norm, 1e-12)), 1);
    return gradients.map((gradient) => tf.mul(gradient, scale));
  });
}
