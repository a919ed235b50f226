import * as tf from '@tensorflow/tfjs-core';

/** Activations TF.js' fused conv and matMul kernels apply in the same pass (wasm: XNNPACK's clamp for relu/relu6). */
export type FusedActivation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'elu';

/** A batch-normalisation layer's inference parameters (absent gamma = 1, absent beta = 0). */
export interface BatchNormParameters {
  readonly gamma?: tf.Tensor;
  readonly beta?: tf.Tensor;
  readonly movingMean: tf.Tensor;
  readonly movingVariance: tf.Tensor;
  readonly epsilon: number;
}

/**
 * Folds an inference batch-norm that follows a convolution into the convolution's kernel and bias:
 * scale = γ / √(σ² + ε), kernel' = kernel · scale per output channel, bias' = (bias − μ) · scale + β.
 * The output channel is the kernel's last axis for a conv2d [h, w, in, out]; for a depthwise kernel
 * [h, w, in, multiplier] it is in · multiplier + m, i.e. the last two axes flattened.
 * Returns new tensors owned by the caller.
 */
export function foldBatchNorm(
  kernel: tf.Tensor,
  bias: tf.Tensor | undefined,
  norm: BatchNormParameters,
  options: { readonly depthwise: boolean },
): { kernel: tf.Tensor; bias: tf.Tensor1D } {
  return tf.tidy(() => {
    let scale = tf.rsqrt(tf.add(norm.movingVariance, norm.epsilon));
    if (norm.gamma) scale = tf.mul(scale, norm.gamma);
    const channelAxes = options.depthwise ? 2 : 1;
    const broadcastShape = kernel.shape.map((size, axis) =>
      axis >= kernel.rank - channelAxes ? size : 1,
    );
    const foldedKernel = tf.mul(kernel, tf.reshape(scale, broadcastShape));
    let foldedBias = tf.mul(bias ? tf.sub(bias, norm.movingMean) : tf.neg(norm.movingMean), scale);
    if (norm.beta) foldedBias = tf.add(foldedBias, norm.beta);
    return { kernel: foldedKernel, bias: foldedBias as tf.Tensor1D };
  });
}

/**
 * The padding a convolution needs after an explicit zero-padding of `[[top, bottom], [left, right]]`
 * is folded into it: `'valid'` when there is none, `'same'` when it equals what `'same'` pads for this
 * input size (Keras MobileNetV2's stride-2 blocks), a number when symmetric, else the explicit form
 * (which only regular convolutions accept).
 */
export function foldedPadding(
  padding: readonly [readonly [number, number], readonly [number, number]],
  input: { readonly height: number | null; readonly width: number | null },
  kernel: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number],
): 'valid' | 'same' | number | [[0, 0], [number, number], [number, number], [0, 0]] {
  const [[top, bottom], [left, right]] = padding;
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return 'valid';
  const same = (size: number | null, axis: 0 | 1): [number, number] | undefined => {
    if (size === null) return undefined;
    const effective = (kernel[axis] - 1) * dilations[axis] + 1;
    const total = Math.max(
      (Math.ceil(size / strides[axis]) - 1) * strides[axis] + effective - size,
      0,
    );
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  const sameHeight = same(input.height, 0);
  const sameWidth = same(input.width, 1);
  if (
    sameHeight?.[0] === top &&
    sameHeight[1] === bottom &&
    sameWidth?.[0] === left &&
    sameWidth[1] === right
  )
    return 'same';
  if (top === bottom && top === left && top === right) return top;
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}
