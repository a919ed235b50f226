import {
  type ClipByValueAttrs,
  engine,
  type GradConfig,
  greaterEqual,
  lessEqual,
  logicalAnd,
  type NamedAttrMap,
  type Tensor,
  where,
  zerosLike,
} from '@tensorflow/tfjs-core';
import { CLIP_BY_VALUE_GRAD } from '../kernels/clip-by-value-grad';
import { runsOnWasmKernel } from './wasm-kernel';

/**
 * The gradient of `ClipByValue` (what `tf.layers.reLU({ maxValue: 6 })` runs): on wasm one fused
 * kernel for float32, elsewhere tfjs-core's formula unchanged — dy where min ≤ x ≤ max, else 0.
 */
export const clipByValueGradConfig: GradConfig = {
  kernelName: 'ClipByValue',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const gradient = dy as Tensor;
    const [x] = saved as [Tensor];
    const { clipValueMin, clipValueMax } = attrs as unknown as ClipByValueAttrs;
    return {
      x: () =>
        runsOnWasmKernel(CLIP_BY_VALUE_GRAD, x, gradient)
          ? (engine().runKernel(CLIP_BY_VALUE_GRAD, { dy: gradient, x }, {
              clipValueMin,
              clipValueMax,
            } as unknown as NamedAttrMap) as Tensor)
          : where(
              logicalAnd(greaterEqual(x, clipValueMin), lessEqual(x, clipValueMax)),
              gradient,
              zerosLike(gradient),
            ),
    };
  },
};
