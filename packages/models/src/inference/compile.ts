import { InvalidArgumentError } from '@imgcls/preprocess/errors';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  type BatchNormParameters,
  type FusedActivation,
  foldBatchNorm,
  foldedPadding,
} from './fold';

/** A layers model compiled into a straight-line program of fused TF.js ops; see {@link compileLayersModel}. */
export interface CompiledModel {
  /** Names of the layers whose outputs {@link CompiledModel.execute} can return (the model's output first). */
  readonly outputs: readonly string[];
  /**
   * Runs the network on a batch and returns the output of the layer named `output` (default: the
   * model's output). The caller owns the result; every intermediate tensor is freed.
   *
   * @throws InvalidArgumentError when the input's shape does not fit the model or `output` was not compiled.
   */
  execute(input: tf.Tensor, output?: string): tf.Tensor;
  /** Frees the weights the compilation created (folded kernels); the model's own weights stay. */
  dispose(): void;
}

type Layer = tfl.layers.Layer;
type Config = Record<string, unknown>;

/** One operation of the program: reads tensors by symbolic id, writes one. */
interface Step {
  readonly inputs: readonly number[];
  readonly output: number;
  readonly run: (inputs: tf.Tensor[]) => tf.Tensor;
}

const FUSABLE: ReadonlySet<string> = new Set(['linear', 'relu', 'relu6', 'sigmoid', 'elu']);
const STANDALONE_ACTIVATIONS: Readonly<Record<string, (x: tf.Tensor) => tf.Tensor>> = {
  linear: (x) => x,
  relu: tf.relu,
  relu6: tf.relu6,
  sigmoid: tf.sigmoid,
  elu: tf.elu,
  tanh: tf.tanh,
  softmax: (x) => tf.softmax(x),
};

/**
 * Compiles a TF.js layers model for inference: the layers become a straight-line list of TF.js ops run
 * without tf.layers' symbolic execution, batch-norm after a convolution is folded into its kernel and
 * bias, ReLU/ReLU6 after a convolution or dense layer runs inside the fused conv/matMul kernel (on wasm,
 * XNNPACK clamps the output instead of separate Relu and Minimum passes), and a zero-padding before a
 * `valid` convolution becomes the convolution's own padding. Layers without a fast path run through their
 * own `call`, so results equal `model.predict` (up to float rounding of the folded weights).
 *
 * The folded weights are a snapshot: compile again after changing the model's weights.
 *
 * @param options.outputs layer names whose outputs must stay observable (e.g. an embedding layer).
 * @returns undefined when the model is not a single-input, single-output graph in which every layer is
 *   used once (shared layers, nested models): run `model.predict` for those.
 * @throws InvalidArgumentError when a name in `options.outputs` is not a layer of the model.
 */
export function compileLayersModel(
  model: tfl.LayersModel,
  options: { readonly outputs?: readonly string[] } = {},
): CompiledModel | undefined {
  const [modelInput] = model.inputs;
  const [modelOutput] = model.outputs;
  if (!modelInput || !modelOutput || model.inputs.length !== 1 || model.outputs.length !== 1)
    return undefined;
  const layers = model.layers;
  if (
    layers.some(
      (layer) =>
        layer.inboundNodes.length !== 1 || layer.inboundNodes[0]?.outputTensors.length !== 1,
    )
  )
    return undefined;
  const outputLayers = [modelOutput.sourceLayer.name, ...(options.outputs ?? [])];
  const outputIds = new Map<string, number>();
  for (const name of outputLayers) {
    const layer = layers.find((candidate) => candidate.name === name);
    if (!layer)
      throw new InvalidArgumentError(
        `The model has no layer "${name}": choose one of ${layers.map((l) => l.name).join(', ')}.`,
      );
    outputIds.set(name, outputOf(layer));
  }
  const program = new ProgramBuilder(layers, new Set(outputIds.values()));
  for (const layer of layers) program.add(layer);
  return new Program(program.steps, program.owned, modelInput, outputIds);
}

function inputsOf(layer: Layer): number[] {
  return (layer.inboundNodes[0]?.inputTensors ?? []).map((tensor) => tensor.id);
}

function outputOf(layer: Layer): number {
  return layer.inboundNodes[0]?.outputTensors[0]?.id as number;
}

function pair(value: unknown): [number, number] {
  return Array.isArray(value)
    ? [value[0] as number, (value[1] ?? value[0]) as number]
    : [value as number, value as number];
}

function weight(layer: Layer, name: string): tf.Tensor | undefined {
  return layer.weights.find((variable) => variable.originalName.split('/').pop() === name)?.read();
}

class ProgramBuilder {
  readonly steps: Step[] = [];
  readonly owned: tf.Tensor[] = [];
  private readonly consumers = new Map<number, Layer[]>();
  private readonly absorbed = new Set<Layer>();
  /** Zero-paddings folded into the convolution that follows them. */
  private readonly paddings = new Map<Layer, { source: number; padding: [number, number][] }>();

  constructor(
    layers: readonly Layer[],
    private readonly observed: ReadonlySet<number>,
  ) {
    for (const layer of layers)
      for (const id of inputsOf(layer))
        this.consumers.set(id, [...(this.consumers.get(id) ?? []), layer]);
  }

  add(layer: Layer): void {
    if (this.absorbed.has(layer)) return;
    const config = layer.getConfig() as Config;
    switch (layer.getClassName()) {
      case 'InputLayer':
        return;
      case 'ZeroPadding2D':
        if (this.foldPadding(layer, config)) return;
        break;
      case 'Conv2D':
      case 'DepthwiseConv2D':
        if (this.addConvolution(layer, config)) return;
        break;
      case 'Dense':
        if (this.addDense(layer, config)) return;
        break;
      default: {
        const run = simpleOp(layer, config);
        if (run) {
          this.steps.push({ inputs: inputsOf(layer), output: outputOf(layer), run });
          return;
        }
      }
    }
    // No fast path: the layer's own eager call.
    this.steps.push({
      inputs: inputsOf(layer),
      output: outputOf(layer),
      run: (inputs) =>
        layer.apply(inputs.length === 1 ? (inputs[0] as tf.Tensor) : inputs) as tf.Tensor,
    });
  }

  /** The only layer reading `layer`'s output, when that output need not be observed. */
  private next(layer: Layer): Layer | undefined {
    const id = outputOf(layer);
    const readers = this.consumers.get(id);
    return readers?.length === 1 && !this.observed.has(id) ? readers[0] : undefined;
  }

  private foldPadding(layer: Layer, config: Config): boolean {
    const next = this.next(layer);
    if (
      !next ||
      !convolutionKernel(next) ||
      (next.getConfig() as Config).padding !== 'valid' ||
      config.dataFormat === 'channelsFirst'
    )
      return false;
    const padding = (config.padding as number[][]).map(pair);
    this.paddings.set(next, { source: inputsOf(layer)[0] as number, padding });
    this.absorbed.add(layer);
    return true;
  }

  private addConvolution(layer: Layer, config: Config): boolean {
    const depthwise = layer.getClassName() === 'DepthwiseConv2D';
    const kernel = convolutionKernel(layer);
    if (!kernel) return false;
    let activation = config.activation as string;
    const strides = pair(config.strides);
    const dilations = pair(config.dilationRate);
    const folded = this.paddings.get(layer);
    let source = inputsOf(layer)[0] as number;
    let pad: ReturnType<typeof foldedPadding> = config.padding as 'same' | 'valid';
    if (folded) {
      const paddedInput = layer.inboundNodes[0]?.inputTensors[0]?.shape ?? [];
      const [top, bottom] = folded.padding[0] as [number, number];
      const [left, right] = folded.padding[1] as [number, number];
      const height = paddedInput[1] == null ? null : (paddedInput[1] as number) - top - bottom;
      const width = paddedInput[2] == null ? null : (paddedInput[2] as number) - left - right;
      pad = foldedPadding(
        [
          [top, bottom],
          [left, right],
        ],
        { height, width },
        [kernel.shape[0] as number, kernel.shape[1] as number],
        strides,
        dilations,
      );
      source = folded.source;
    }
    if (depthwise && Array.isArray(pad)) {
      // Fused depthwise convolutions take no explicit padding: keep the zero-padding as its own op.
      const padding = pad;
      const padded = -layer.id - 1;
      this.steps.push({
        inputs: [source],
        output: padded,
        run: ([x]) => tf.pad(x as tf.Tensor, padding),
      });
      source = padded;
      pad = 'valid';
    }
    let filter = kernel;
    let bias = config.useBias ? weight(layer, 'bias') : undefined;
    let last = layer;
    const norm = activation === 'linear' ? this.next(layer) : undefined;
    const normParameters = norm && batchNormParameters(norm);
    if (norm && normParameters) {
      const result = foldBatchNorm(filter, bias, normParameters, { depthwise });
      filter = result.kernel;
      bias = result.bias;
      this.owned.push(result.kernel, result.bias);
      this.absorbed.add(norm);
      last = norm;
    }
    const fused = this.fusableActivation(last);
    if (fused && activation === 'linear') {
      activation = fused.activation;
      this.absorbed.add(fused.layer);
      last = fused.layer;
    }
    const convolution = {
      filter,
      strides,
      pad,
      dilations,
      ...(bias ? { bias } : {}),
      activation: activation as FusedActivation,
    };
    this.steps.push({
      inputs: [source],
      output: outputOf(last),
      run: depthwise
        ? ([x]) =>
            tf.fused.depthwiseConv2d({
              ...convolution,
              x: x as tf.Tensor4D,
              filter: filter as tf.Tensor4D,
              pad: pad as 'same' | 'valid' | number,
            })
        : ([x]) =>
            tf.fused.conv2d({ ...convolution, x: x as tf.Tensor4D, filter: filter as tf.Tensor4D }),
    });
    return true;
  }

  private addDense(layer: Layer, config: Config): boolean {
    const kernel = weight(layer, 'kernel');
    const input = layer.inboundNodes[0]?.inputTensors[0];
    if (!kernel || input?.shape.length !== 2 || !FUSABLE.has(config.activation as string))
      return false;
    let activation = config.activation as FusedActivation;
    let last = layer;
    const fused = activation === 'linear' ? this.fusableActivation(layer) : undefined;
    if (fused) {
      activation = fused.activation;
      this.absorbed.add(fused.layer);
      last = fused.layer;
    }
    const bias = config.useBias ? weight(layer, 'bias') : undefined;
    this.steps.push({
      inputs: inputsOf(layer),
      output: outputOf(last),
      run: ([x]) =>
        tf.fused.matMul({
          a: x as tf.Tensor2D,
          b: kernel as tf.Tensor2D,
          ...(bias ? { bias } : {}),
          activation,
        }),
    });
    return true;
  }

  /** The activation layer right after `layer` when a fused kernel can apply it. */
  private fusableActivation(
    layer: Layer,
  ): { layer: Layer; activation: FusedActivation } | undefined {
    const next = this.next(layer);
    if (!next) return undefined;
    const activation = activationName(next);
    return activation && FUSABLE.has(activation)
      ? { layer: next, activation: activation as FusedActivation }
      : undefined;
  }
}

/**
 * The kernel of a 2-D convolution the program runs as a fused op (channels last, fusable activation), or
 * undefined when the layer must run through its own call. A zero-padding is only folded into such a one.
 */
function convolutionKernel(layer: Layer): tf.Tensor | undefined {
  const className = layer.getClassName();
  if (className !== 'Conv2D' && className !== 'DepthwiseConv2D') return undefined;
  const config = layer.getConfig() as Config;
  const kernel = weight(layer, className === 'DepthwiseConv2D' ? 'depthwise_kernel' : 'kernel');
  return kernel?.rank === 4 &&
    config.dataFormat !== 'channelsFirst' &&
    FUSABLE.has(config.activation as string)
    ? kernel
    : undefined;
}

/** The activation an `Activation` or `ReLU` layer computes, by tf.layers name. */
function activationName(layer: Layer): string | undefined {
  const config = layer.getConfig() as Config;
  if (layer.getClassName() === 'Activation') return config.activation as string;
  if (layer.getClassName() === 'ReLU') {
    if (config.maxValue == null) return 'relu';
    return config.maxValue === 6 ? 'relu6' : undefined;
  }
  return undefined;
}

function batchNormParameters(layer: Layer): BatchNormParameters | undefined {
  if (layer.getClassName() !== 'BatchNormalization') return undefined;
  const config = layer.getConfig() as Config;
  const axis = config.axis as number;
  const rank = layer.inboundNodes[0]?.inputTensors[0]?.shape.length;
  const movingMean = weight(layer, 'moving_mean');
  const movingVariance = weight(layer, 'moving_variance');
  if (!movingMean || !movingVariance || (axis !== -1 && axis !== (rank ?? 0) - 1)) return undefined;
  const gamma = weight(layer, 'gamma');
  const beta = weight(layer, 'beta');
  return {
    movingMean,
    movingVariance,
    epsilon: config.epsilon as number,
    ...(gamma ? { gamma } : {}),
    ...(beta ? { beta } : {}),
  };
}

/** Direct TF.js ops for layers that need no weights folding; undefined when the layer needs its own call. */
function simpleOp(layer: Layer, config: Config): Step['run'] | undefined {
  const channelsLast = config.dataFormat !== 'channelsFirst';
  switch (layer.getClassName()) {
    case 'Activation':
    case 'ReLU': {
      const name = activationName(layer);
      const apply = name ? STANDALONE_ACTIVATIONS[name] : undefined;
      return apply && (([x]) => apply(x as tf.Tensor));
    }
    case 'BatchNormalization': {
      const norm = batchNormParameters(layer);
      return (
        norm &&
        (([x]) =>
          tf.batchNorm(
            x as tf.Tensor,
            norm.movingMean,
            norm.movingVariance,
            norm.beta,
            norm.gamma,
            norm.epsilon,
          ))
      );
    }
    case 'Dropout':
      return ([x]) => x as tf.Tensor;
    case 'Add':
      return (inputs) =>
        inputs.length === 2
          ? tf.add(inputs[0] as tf.Tensor, inputs[1] as tf.Tensor)
          : tf.addN(inputs);
    case 'Multiply':
      return (inputs) =>
        inputs.slice(1).reduce((product, x) => tf.mul(product, x), inputs[0] as tf.Tensor);
    case 'Concatenate':
      return (inputs) => tf.concat(inputs, config.axis as number);
    case 'GlobalAveragePooling2D':
      return channelsLast
        ? ([x]) => tf.mean(x as tf.Tensor, [1, 2], Boolean(config.keepDims))
        : undefined;
    case 'GlobalMaxPooling2D':
      return channelsLast
        ? ([x]) => tf.max(x as tf.Tensor, [1, 2], Boolean(config.keepDims))
        : undefined;
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      if (!channelsLast) return undefined;
      const pool = layer.getClassName() === 'MaxPooling2D' ? tf.maxPool : tf.avgPool;
      const size = pair(config.poolSize);
      const strides = pair(config.strides ?? config.poolSize);
      const pad = config.padding as 'same' | 'valid';
      return ([x]) => pool(x as tf.Tensor4D, size, strides, pad);
    }
    case 'Flatten':
      return ([x]) => tf.reshape(x as tf.Tensor, [(x as tf.Tensor).shape[0] as number, -1]);
    case 'Reshape': {
      const target = config.targetShape as number[];
      return ([x]) => tf.reshape(x as tf.Tensor, [(x as tf.Tensor).shape[0] as number, ...target]);
    }
    case 'Softmax': {
      const axis = config.axis as number;
      const rank = layer.inboundNodes[0]?.inputTensors[0]?.shape.length ?? 0;
      return axis === -1 || axis === rank - 1 ? ([x]) => tf.softmax(x as tf.Tensor) : undefined;
    }
    default:
      return undefined;
  }
}

class Program implements CompiledModel {
  readonly outputs: readonly string[];
  /** How many steps read each tensor: it is freed after the last. */
  private readonly reads = new Map<number, number>();
  private disposed = false;

  constructor(
    private readonly steps: readonly Step[],
    private readonly owned: readonly tf.Tensor[],
    private readonly input: tfl.SymbolicTensor,
    private readonly outputIds: ReadonlyMap<string, number>,
  ) {
    this.outputs = [...outputIds.keys()];
    for (const step of steps)
      for (const id of step.inputs) this.reads.set(id, (this.reads.get(id) ?? 0) + 1);
  }

  execute(input: tf.Tensor, output?: string): tf.Tensor {
    if (this.disposed) throw new InvalidArgumentError('This compiled model was disposed.');
    const target = this.outputIds.get(output ?? (this.outputs[0] as string));
    if (target === undefined)
      throw new InvalidArgumentError(
        `"${output}" was not compiled as an output: compile with { outputs: ['${output}'] }.`,
      );
    const expected = this.input.shape;
    if (
      input.rank !== expected.length ||
      expected.some((size, axis) => axis > 0 && size !== null && size !== input.shape[axis])
    )
      throw new InvalidArgumentError(
        `The model expects input of shape [${expected.map((size) => size ?? 'batch')}], got [${input.shape}].`,
      );
    return tf.tidy(() => {
      const values = new Map<number, tf.Tensor>([[this.input.id, input]]);
      const remaining = new Map(this.reads);
      for (const step of this.steps) {
        const inputs = step.inputs.map((id) => values.get(id) as tf.Tensor);
        let result = step.run(inputs);
        // An identity step (dropout, linear) must not hand out a tensor that is freed below.
        if (inputs.includes(result)) result = tf.clone(result);
        for (const id of step.inputs) {
          const left = (remaining.get(id) ?? 0) - 1;
          remaining.set(id, left);
          if (left === 0 && id !== this.input.id) {
            values.get(id)?.dispose();
            values.delete(id);
          }
        }
        values.set(step.output, result);
        if (step.output === target) return result;
      }
      throw new InvalidArgumentError(`"${output}" is not computed by the model.`);
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...this.owned]);
  }
}
