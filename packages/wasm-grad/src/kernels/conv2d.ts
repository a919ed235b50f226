import type {
  Conv2DAttrs,
  FusedConv2DAttrs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { type ConvPad, forwardConvInfo } from '../conv-geometry';
import { WinogradConvolution } from '../simd/winograd';
import { stockKernel } from '../stock-kernels';
import type { WasmBackendLike } from '../wasm-kernels';

/**
 * `Conv2D` for wasm: 3×3 filters at stride 1 (every convolution of the seed CNN and ResNet-9 but their
 * first, and through this kernel the input gradient of each, a convolution with the flipped filter) by
 * Winograd's F(2×2, 3×3) in this package's SIMD kernel ({@link WinogradConvolution}); everything else
 * goes to the wasm backend's own (XNNPACK) kernel.
 */
export const conv2DConfig: KernelConfig = {
  kernelName: 'Conv2D',
  backendName: 'wasm',
  kernelFunc: (args) =>
    winogradOrStock(args, 'Conv2D', (args.attrs ?? {}) as unknown as Conv2DAttrs, undefined),
};

/**
 * `FusedConv2D` for wasm (tfjs-layers' convolutions, with a bias and a linear activation): as
 * {@link conv2DConfig}, with the bias and a linear or ReLU activation applied as the outputs are
 * written; other activations go to the wasm backend's own kernel.
 */
export const fusedConv2DConfig: KernelConfig = {
  kernelName: 'FusedConv2D',
  backendName: 'wasm',
  kernelFunc: (args) => {
    const attrs = (args.attrs ?? {}) as unknown as FusedConv2DAttrs;
    const { bias, preluActivationWeights } = args.inputs as {
      bias?: TensorInfo;
      preluActivationWeights?: TensorInfo;
    };
    const fusable =
      (attrs.activation === 'linear' || attrs.activation === 'relu') && !preluActivationWeights;
    return winogradOrStock(args, 'FusedConv2D', attrs, fusable ? { bias } : null);
  },
};

/**
 * The convolution by Winograd where it applies, else by the stock kernel. `fused` is undefined for a
 * plain Conv2D, null for a fused one this kernel cannot fuse.
 */
function winogradOrStock(
  args: Parameters<KernelFunc>[0],
  kernelName: string,
  attrs: Conv2DAttrs,
  fused: { bias: TensorInfo | undefined } | null | undefined,
): ReturnType<KernelFunc> {
  const wasm = args.backend as WasmBackendLike;
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const bias = fused?.bias;
  const convolution =
    fused !== null && attrs.dataFormat !== 'NCHW' && x.dtype === 'float32'
      ? winogradFor(x, filter, attrs, bias)
      : undefined;
  if (!convolution) return stockKernel(kernelName)(args);
  const { outShape } = convolution;
  // Allocated first: growing the wasm heap detaches the views below.
  const output = wasm.makeOutput(outShape, 'float32');
  convolution.winograd.run(
    wasm.typedArrayFromHeap(x) as Float32Array,
    wasm.typedArrayFromHeap(filter) as Float32Array,
    bias ? (wasm.typedArrayFromHeap(bias) as Float32Array) : undefined,
    (attrs as Partial<FusedConv2DAttrs>).activation === 'relu',
    wasm.typedArrayFromHeap(output) as Float32Array,
  );
  return output;
}

/** The Winograd plan for a 3×3, stride-1, undilated convolution with a per-channel bias, if any. */
function winogradFor(
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DAttrs,
  bias: TensorInfo | undefined,
): { winograd: WinogradConvolution; outShape: number[] } | undefined {
  const info = forwardConvInfo(
    x.shape,
    filter.shape,
    attrs.strides,
    attrs.pad as ConvPad,
    attrs.dimRoundingMode,
    false,
    attrs.dilations,
  );
  if (bias !== undefined && (bias.dtype !== 'float32' || sizeOf(bias) !== info.outChannels))
    return undefined;
  const winograd = WinogradConvolution.forConvolution(info);
  return winograd && { winograd, outShape: [...info.outShape] };
}

function sizeOf(tensor: TensorInfo): number {
  return tensor.shape.reduce((size, length) => size * length, 1);
}
