import {
  getBackend,
  getGradient,
  getKernel,
  type KernelConfig,
  registerGradient,
  registerKernel,
  unregisterKernel,
} from '@tensorflow/tfjs-core';
import { clipByValueGradConfig } from './gradients/clip-by-value';
import { erfGradConfig } from './gradients/erf';
import { fusedBatchNormGradConfig } from './gradients/fused-batch-norm';
import { batchMatMulConfig } from './kernels/batch-mat-mul';
import { clipByValueGradConfig as clipByValueGradKernelConfig } from './kernels/clip-by-value-grad';
import { conv2DConfig, fusedConv2DConfig } from './kernels/conv2d';
import { conv2DBackpropFilterConfig } from './kernels/conv2d-backprop-filter';
import { conv2DBackpropInputConfig } from './kernels/conv2d-backprop-input';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/depthwise-backprop-filter';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/depthwise-backprop-input';
import { equalConfig } from './kernels/equal';
import { erfConfig, erfGradConfig as erfGradKernelConfig } from './kernels/erf';
import { identityConfig } from './kernels/identity';
import { meanConfig, sumConfig } from './kernels/leading-axis-reductions';
import { maxPoolGradConfig } from './kernels/max-pool-grad';
import { keepStockKernel } from './stock-kernels';
import { moveToWasmHeap, type WasmBackendLike } from './wasm-kernels';

const GRADIENT_KERNELS: readonly KernelConfig[] = [
  conv2DConfig,
  fusedConv2DConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  maxPoolGradConfig,
  sumConfig,
  meanConfig,
  batchMatMulConfig,
  clipByValueGradKernelConfig,
  identityConfig,
  equalConfig,
  erfConfig,
  erfGradKernelConfig,
];

/** Replacements that delegate some cases to the wasm backend's own kernel. */
const DELEGATING_KERNELS: ReadonlySet<KernelConfig> = new Set([
  equalConfig,
  erfConfig,
  conv2DConfig,
  fusedConv2DConfig,
  sumConfig,
  meanConfig,
  batchMatMulConfig,
]);

/** Names of the kernels {@link registerWasmGradients} provides for the `wasm` backend. */
export const WASM_GRADIENT_KERNELS: readonly string[] = GRADIENT_KERNELS.map(
  (config) => config.kernelName,
);

/** What one call of {@link registerWasmGradients} or {@link registerMissingGradients} did. */
export interface RegistrationReport {
  /** Kernels that were missing on wasm and are now registered. */
  readonly added: readonly string[];
  /** Kernels wasm had (slow scalar versions) that this package replaced. */
  readonly replaced: readonly string[];
  /**
   * Kernels left as they were: registered by an earlier call or, for {@link registerMissingGradients},
   * already present on the backend.
   */
  readonly alreadyRegistered: readonly string[];
}

/** The kernel configurations this package registered, to recognise them on a second call. */
const registered = new Set<KernelConfig>();

/**
 * Registers the gradient kernels that let TensorFlow.js train convolutional networks on the `wasm`
 * backend: the missing `Conv2DBackpropFilter` and depthwise gradients, and faster replacements for
 * `Conv2D` and `FusedConv2D` (3×3 filters at stride 1 by Winograd, in this package's SIMD kernel),
 * `Conv2DBackpropInput` and `MaxPoolGrad`, and `Sum`/`Mean` that reduce leading axes (per-channel
 * statistics) in one pass instead of transposing first (other reductions still use wasm's own), and a
 * `BatchMatMul` that transposes its operands up front instead of inside the product, and an `Identity`
 * that shares its input's data instead of copying it, and an `Equal` that broadcasts in one pass, and an
 * `Erf` (GELU's) in the SIMD kernel. It also replaces tfjs-core's `FusedBatchNorm` gradient with an
 * equivalent one that broadcasts instead of tiling (a gradient is shared by all backends, so this speeds
 * every backend up), and the `ClipByValue` (ReLU6) and `Erf` gradients with ones that run as a single
 * kernel on wasm (tfjs-core's formulas elsewhere). Explicit and idempotent: importing this package changes
 * nothing; calling this twice does nothing the second time. Call it after importing `@tensorflow/tfjs`
 * (whose import registers the stock gradients) and `@tensorflow/tfjs-backend-wasm`, before or after
 * `tf.setBackend('wasm')`.
 */
export function registerWasmGradients(): RegistrationReport {
  const report = registerKernels(GRADIENT_KERNELS, { replace: true });
  for (const gradient of [fusedBatchNormGradConfig, clipByValueGradConfig, erfGradConfig]) {
    if (getGradient(gradient.kernelName) !== gradient) registerGradient(gradient);
  }
  return report;
}

/**
 * Kernels that replace tfjs' gradient formulas with this package's own (used only by the gradients
 * {@link registerWasmGradients} swaps in), so there is nothing missing about them on stock wasm.
 */
const GRADIENT_HELPER_KERNELS: ReadonlySet<KernelConfig> = new Set([
  clipByValueGradKernelConfig,
  erfGradKernelConfig,
]);

/**
 * Registers only the gradient kernels the active backend lacks, so that gradients through
 * convolutions work there, and changes nothing else: no forward kernel (`Conv2D`, `Sum`, `Mean`,
 * `BatchMatMul`…) and no kernel the backend already has is replaced, and no gradient is swapped for
 * every backend. This is what a library should call before it computes gradients for its caller (Grad-CAM
 * in `@imgcls/classifier` does); the faster replacements stay opt-in through {@link registerWasmGradients}.
 * On `wasm` it adds `Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropFilter` and
 * `DepthwiseConv2dNativeBackpropInput`; on any other backend (which has its own) it does nothing.
 * Idempotent, and harmless after {@link registerWasmGradients} (everything is then already registered).
 */
export function registerMissingGradients(): RegistrationReport {
  if (getBackend() !== 'wasm') return { added: [], replaced: [], alreadyRegistered: [] };
  const missing = GRADIENT_KERNELS.filter(
    (config) => !DELEGATING_KERNELS.has(config) && !GRADIENT_HELPER_KERNELS.has(config),
  );
  return registerKernels(missing, { replace: false });
}

/** Registers `configs` for wasm; kernels wasm already has are replaced only when `replace` is set. */
function registerKernels(
  configs: readonly KernelConfig[],
  { replace }: { replace: boolean },
): RegistrationReport {
  const added: string[] = [];
  const replaced: string[] = [];
  const alreadyRegistered: string[] = [];
  for (const config of configs) {
    const existing = getKernel(config.kernelName, 'wasm');
    if (existing && (registered.has(existing) || !replace)) {
      alreadyRegistered.push(config.kernelName);
      continue;
    }
    // A replacement that delegates needs wasm's own kernel (missing if tfjs-backend-wasm is not loaded yet).
    if (DELEGATING_KERNELS.has(config) && !existing) continue;
    let registration = withInputsInHeap(config);
    if (existing) {
      if (DELEGATING_KERNELS.has(config)) {
        keepStockKernel(config.kernelName, existing.kernelFunc);
        // The stock kernel binds its wasm function in its setup, which the backend runs when it
        // starts: a replacement registered before tf.setBackend('wasm') must carry it along.
        registration = {
          ...registration,
          ...(existing.setupFunc ? { setupFunc: existing.setupFunc } : {}),
          ...(existing.disposeFunc ? { disposeFunc: existing.disposeFunc } : {}),
        };
      }
      unregisterKernel(config.kernelName, 'wasm');
      replaced.push(config.kernelName);
    } else {
      added.push(config.kernelName);
    }
    registered.add(registration);
    registerKernel(registration);
  }
  return { added, replaced, alreadyRegistered };
}

/** `config` with its inputs moved into the wasm heap before it takes views of them. */
function withInputsInHeap(config: KernelConfig): KernelConfig {
  const { kernelFunc } = config;
  return {
    ...config,
    kernelFunc: (args) => {
      moveToWasmHeap(args.backend as WasmBackendLike, args.inputs);
      return kernelFunc(args);
    },
  };
}
