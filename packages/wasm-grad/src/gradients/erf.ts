import {
  Erf,
  engine,
  exp,
  type GradConfig,
  mul,
  neg,
  square,
  type Tensor,
} from '@tensorflow/tfjs-core';
import { ERF_GRAD } from '../kernels/erf';
import { runsOnWasmKernel } from './wasm-kernel';

/**
 * The gradient of `Erf` (GELU's, as tf.layers computes it): on wasm one kernel for float32, elsewhere
 * tfjs-core's formula unchanged — dy · (2/√π) · e^(−x²).
 */
export const erfGradConfig: GradConfig = {
  kernelName: Erf,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const gradient = dy as Tensor;
    const [x] = saved as [Tensor];
    return {
      x: () =>
        runsOnWasmKernel(ERF_GRAD, x, gradient)
          ? (engine().runKernel(ERF_GRAD, { dy: gradient, x }) as Tensor)
          : mul(gradient, mul(exp(neg(square(x))), 2 / Math.sqrt(Math.PI))),
    };
  },
};
