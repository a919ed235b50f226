import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidTfliteError, UnsupportedTfliteOpError } from './errors';
import {
  dequantize,
  parseTflite,
  type Quantization,
  type TfliteGraph,
  type TfliteOperator,
  type TfliteTensor,
} from './parse';
import type { Table } from './schema';

/** What {@link importTflite} returns. */
export interface ImportedTflite {
  /** An ordinary TF.js layers model with float32 weights: save it with `model.save(handler)`. */
  readonly model: tfl.LayersModel;
  /** Input shape without the batch dimension, e.g. [224, 224, 3]. */
  readonly inputShape: readonly number[];
  /** Output units (e.g. 1001). */
  readonly outputUnits: number;
  /**
   * The float values the imported model expects for raw pixel bytes 0 and 255: the dequantised range of a
   * uint8/int8 input (real = scale · (q − zeroPoint)), or undefined for float models (their preprocessing
   * is not recorded in the file).
   */
  readonly inputRange?: readonly [number, number];
  /** Whether the file's weights were quantised, and how. */
  readonly quantization: 'float' | 'per-tensor' | 'per-axis';
  /** Operator counts by name. */
  readonly ops: Readonly<Record<string, number>>;
  /** True when the last operator is SOFTMAX: the output is a probability distribution. */
  readonly endsWithSoftmax: boolean;
  /** The layer whose output feeds the final classifier (last CONV_2D or FULLY_CONNECTED): the embedding. */
  readonly embeddingLayer?: string;
}

// TFLite ActivationFunctionType → tf.layers activation.
const ACTIVATIONS: Readonly<Record<number, 'linear' | 'relu' | 'relu6' | 'tanh' | undefined>> = {
  0: 'linear',
  1: 'relu',
  3: 'relu6',
  4: 'tanh',
};
// Options field ids (schema.fbs) of the operators read here.
const CONV = {
  padding: 0,
  strideW: 1,
  strideH: 2,
  activation: 3,
  dilationW: 4,
  dilationH: 5,
} as const;
const DEPTHWISE = {
  padding: 0,
  strideW: 1,
  strideH: 2,
  multiplier: 3,
  activation: 4,
  dilationW: 5,
  dilationH: 6,
} as const;
const POOL = { padding: 0, strideW: 1, strideH: 2, filterW: 3, filterH: 4, activation: 5 } as const;

/**
 * Translates a TFLite classification model (the MobileNet / EfficientNet-Lite operator family) into an
 * equivalent TF.js layers model with dequantised float32 weights. Batch-norm is already folded into
 * TFLite convolutions, and fused activations become the convolutions' own activations, so the result
 * runs TF.js' fused conv+bias+activation kernels.
 *
 * @throws InvalidTfliteError for unreadable files, UnsupportedTfliteOpError naming an operator it cannot translate.
 */
export function importTflite(
  bytes: Uint8Array,
  options: { readonly name?: string } = {},
): ImportedTflite {
  const graph = parseTflite(bytes);
  const [inputIndex] = graph.inputs;
  const [outputIndex] = graph.outputs;
  const inputTensor = inputIndex === undefined ? undefined : graph.tensors[inputIndex];
  if (
    !inputTensor ||
    outputIndex === undefined ||
    graph.inputs.length !== 1 ||
    graph.outputs.length !== 1
  ) {
    throw new InvalidTfliteError('Only single-input, single-output TFLite models can be imported.');
  }
  const inputShape = inputTensor.shape.slice(1);
  let model: tfl.LayersModel | undefined;
  let embeddingLayer: string | undefined;
  // The dequantised weight tensors only seed the layers' variables: tidy frees them afterwards.
  tf.tidy(() => {
    const symbols = new Map<number, tfl.SymbolicTensor>();
    const input = tfl.input({ shape: inputShape, name: 'input' });
    symbols.set(inputIndex as number, input);
    const used = new Set<string>();
    for (const operator of graph.operators)
      symbols.set(operator.outputs[0] as number, translate(graph, operator, symbols, used));
    const output = symbols.get(outputIndex);
    if (!output) throw new InvalidTfliteError('The model output is not produced by any operator.');
    const classifierOp = [...graph.operators]
      .reverse()
      .find((operator) => operator.op === 'CONV_2D' || operator.op === 'FULLY_CONNECTED');
    const features = classifierOp && symbols.get(classifierOp.inputs[0] as number);
    if (features && features !== symbols.get(inputIndex as number))
      embeddingLayer = features.sourceLayer.name;
    model = tfl.model({ inputs: input, outputs: output, name: options.name ?? 'tflite_import' });
  });
  const ops: Record<string, number> = {};
  for (const operator of graph.operators) ops[operator.op] = (ops[operator.op] ?? 0) + 1;
  const inputRange =
    inputTensor.quantization && inputTensor.type !== 'float32'
      ? rangeOf(inputTensor.quantization)
      : undefined;
  return {
    model: model as unknown as tfl.LayersModel,
    inputShape,
    outputUnits: graph.tensors[outputIndex]?.shape.at(-1) as number,
    ...(inputRange ? { inputRange } : {}),
    quantization: weightQuantization(graph),
    ops,
    endsWithSoftmax: graph.operators.at(-1)?.op === 'SOFTMAX',
    ...(embeddingLayer ? { embeddingLayer } : {}),
  };
}

function rangeOf(quantization: Quantization): [number, number] {
  const scale = quantization.scale[0] as number;
  const zeroPoint = quantization.zeroPoint[0] ?? 0;
  return [scale * (0 - zeroPoint), scale * (255 - zeroPoint)];
}

function weightQuantization(graph: TfliteGraph): ImportedTflite['quantization'] {
  const weights = graph.operators
    .filter((operator) => operator.op.includes('CONV'))
    .map((operator) => graph.tensors[operator.inputs[1] as number]);
  if (weights.some((tensor) => (tensor?.quantization?.scale.length ?? 0) > 1)) return 'per-axis';
  return weights.some((tensor) => tensor?.type !== 'float32') ? 'per-tensor' : 'float';
}

/**
 * A unique, Keras-legal layer name derived from the TFLite tensor name. The converter joins the names of
 * the ops it fused with ';' (`.../expand/Relu6;.../expand/add_fold;...`); the first is the layer's own.
 */
function layerName(tensor: TfliteTensor, used: Set<string>): string {
  const base =
    (tensor.name.split(';')[0] ?? '').replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z]/, 't') ||
    `tensor_${tensor.index}`;
  let name = base;
  for (let suffix = 1; used.has(name); suffix++) name = `${base}_${suffix}`;
  used.add(name);
  return name;
}

function activationOf(
  options: Table | undefined,
  field: number,
  operator: TfliteOperator,
): 'linear' | 'relu' | 'relu6' | 'tanh' {
  const code = options?.int8(field) ?? 0;
  const activation = ACTIVATIONS[code];
  if (!activation)
    throw new UnsupportedTfliteOpError(
      `${operator.op} with fused activation ${code}`,
      operator.index,
    );
  return activation;
}

function constant(graph: TfliteGraph, index: number | undefined, shape?: number[]): tf.Tensor {
  const tensor = index === undefined || index < 0 ? undefined : graph.tensors[index];
  if (!tensor || tensor.data.length === 0)
    throw new InvalidTfliteError(
      `Operator input #${index} should be a constant (weights) but holds no data.`,
    );
  return tf.tensor(dequantize(tensor), shape ?? [...tensor.shape]);
}

function translate(
  graph: TfliteGraph,
  operator: TfliteOperator,
  symbols: Map<number, tfl.SymbolicTensor>,
  used: Set<string>,
): tfl.SymbolicTensor {
  const outputTensor = graph.tensors[operator.outputs[0] as number] as TfliteTensor;
  const name = layerName(outputTensor, used);
  const inputOf = (position: number): tfl.SymbolicTensor => {
    const symbol = symbols.get(operator.inputs[position] as number);
    if (!symbol)
      throw new InvalidTfliteError(
        `${operator.op} #${operator.index} reads a tensor no earlier operator produced.`,
      );
    return symbol;
  };
  const options = operator.options;
  switch (operator.op) {
    case 'CONV_2D': {
      const weights = graph.tensors[operator.inputs[1] as number] as TfliteTensor;
      const [filters, height, width] = weights.shape as [number, number, number, number];
      const kernel = tf.tidy(() => tf.transpose(constant(graph, operator.inputs[1]), [1, 2, 3, 0]));
      const bias =
        operator.inputs[2] !== undefined && operator.inputs[2] >= 0
          ? constant(graph, operator.inputs[2])
          : tf.zeros([filters]);
      const layer = tfl.layers.conv2d({
        name,
        filters,
        kernelSize: [height, width],
        strides: [options?.int32(CONV.strideH, 1) ?? 1, options?.int32(CONV.strideW, 1) ?? 1],
        dilationRate: [
          options?.int32(CONV.dilationH, 1) ?? 1,
          options?.int32(CONV.dilationW, 1) ?? 1,
        ],
        padding: options?.int8(CONV.padding) === 1 ? 'valid' : 'same',
        activation: activationOf(options, CONV.activation, operator),
        weights: [kernel, bias],
      });
      return layer.apply(inputOf(0)) as tfl.SymbolicTensor;
    }
    case 'DEPTHWISE_CONV_2D': {
      const weights = graph.tensors[operator.inputs[1] as number] as TfliteTensor;
      const [, height, width, outChannels] = weights.shape as [number, number, number, number];
      const multiplier = options?.int32(DEPTHWISE.multiplier, 1) || 1;
      const inChannels = outChannels / multiplier;
      // TFLite stores [1, h, w, in·multiplier]; TF.js wants [h, w, in, multiplier]: the same order.
      const kernel = constant(graph, operator.inputs[1], [height, width, inChannels, multiplier]);
      const bias =
        operator.inputs[2] !== undefined && operator.inputs[2] >= 0
          ? constant(graph, operator.inputs[2])
          : tf.zeros([outChannels]);
      const layer = tfl.layers.depthwiseConv2d({
        name,
        kernelSize: [height, width],
        depthMultiplier: multiplier,
        strides: [
          options?.int32(DEPTHWISE.strideH, 1) ?? 1,
          options?.int32(DEPTHWISE.strideW, 1) ?? 1,
        ],
        dilationRate: [
          options?.int32(DEPTHWISE.dilationH, 1) ?? 1,
          options?.int32(DEPTHWISE.dilationW, 1) ?? 1,
        ],
        padding: options?.int8(DEPTHWISE.padding) === 1 ? 'valid' : 'same',
        activation: activationOf(options, DEPTHWISE.activation, operator),
        weights: [kernel, bias],
      });
      return layer.apply(inputOf(0)) as tfl.SymbolicTensor;
    }
    case 'FULLY_CONNECTED': {
      const weights = graph.tensors[operator.inputs[1] as number] as TfliteTensor;
      const [units] = weights.shape as [number, number];
      let x = inputOf(0);
      if (x.shape.length > 2)
        x = tfl.layers.flatten({ name: `${name}_flatten` }).apply(x) as tfl.SymbolicTensor;
      const kernel = tf.tidy(() => tf.transpose(constant(graph, operator.inputs[1])));
      const bias =
        operator.inputs[2] !== undefined && operator.inputs[2] >= 0
          ? constant(graph, operator.inputs[2])
          : tf.zeros([units]);
      return tfl.layers
        .dense({
          name,
          units,
          activation: activationOf(options, 0, operator),
          weights: [kernel, bias],
        })
        .apply(x) as tfl.SymbolicTensor;
    }
    case 'ADD':
    case 'MUL': {
      const merged = (
        operator.op === 'ADD' ? tfl.layers.add({ name }) : tfl.layers.multiply({ name })
      ).apply([inputOf(0), inputOf(1)]) as tfl.SymbolicTensor;
      const activation = activationOf(options, 0, operator);
      return activation === 'linear'
        ? merged
        : (tfl.layers
            .activation({ activation, name: `${name}_act` })
            .apply(merged) as tfl.SymbolicTensor);
    }
    case 'AVERAGE_POOL_2D':
    case 'MAX_POOL_2D': {
      const config = {
        name,
        poolSize: [options?.int32(POOL.filterH, 1) ?? 1, options?.int32(POOL.filterW, 1) ?? 1] as [
          number,
          number,
        ],
        strides: [options?.int32(POOL.strideH, 1) ?? 1, options?.int32(POOL.strideW, 1) ?? 1] as [
          number,
          number,
        ],
        padding: (options?.int8(POOL.padding) === 1 ? 'valid' : 'same') as 'valid' | 'same',
      };
      if (activationOf(options, POOL.activation, operator) !== 'linear')
        throw new UnsupportedTfliteOpError(
          `${operator.op} with a fused activation`,
          operator.index,
        );
      const layer =
        operator.op === 'AVERAGE_POOL_2D'
          ? tfl.layers.averagePooling2d(config)
          : tfl.layers.maxPooling2d(config);
      return layer.apply(inputOf(0)) as tfl.SymbolicTensor;
    }
    case 'MEAN': {
      const axes = Array.from(
        dequantize(graph.tensors[operator.inputs[1] as number] as TfliteTensor),
      );
      if (axes.join() !== '1,2')
        throw new UnsupportedTfliteOpError(`MEAN over axes [${axes}]`, operator.index);
      const pooled = tfl.layers
        .globalAveragePooling2d({ name })
        .apply(inputOf(0)) as tfl.SymbolicTensor;
      return outputTensor.shape.length === 4
        ? (tfl.layers
            .reshape({ targetShape: outputTensor.shape.slice(1), name: `${name}_keepdims` })
            .apply(pooled) as tfl.SymbolicTensor)
        : pooled;
    }
    case 'RESHAPE':
    case 'SQUEEZE':
      return tfl.layers
        .reshape({ name, targetShape: outputTensor.shape.slice(1) })
        .apply(inputOf(0)) as tfl.SymbolicTensor;
    case 'SOFTMAX': {
      const beta = options?.float32(0, 1) ?? 1;
      if (beta !== 1)
        throw new UnsupportedTfliteOpError(`SOFTMAX with beta ${beta}`, operator.index);
      return tfl.layers.softmax({ name }).apply(inputOf(0)) as tfl.SymbolicTensor;
    }
    case 'LOGISTIC':
    case 'RELU':
    case 'RELU6': {
      const activation = { LOGISTIC: 'sigmoid', RELU: 'relu', RELU6: 'relu6' }[operator.op] as
        | 'sigmoid'
        | 'relu'
        | 'relu6';
      return tfl.layers.activation({ name, activation }).apply(inputOf(0)) as tfl.SymbolicTensor;
    }
    case 'HARD_SWISH': {
      // x · relu6(x + 3) / 6 = x · clip(x / 6 + 0.5, 0, 1), from standard layers so the model saves and
      // reloads as a plain TF.js layers model.
      const x = inputOf(0);
      const shifted = tfl.layers
        .rescaling({ scale: 1 / 6, offset: 0.5, name: `${name}_gate_linear` })
        .apply(x) as tfl.SymbolicTensor;
      const gate = tfl.layers
        .reLU({ maxValue: 1, name: `${name}_gate` })
        .apply(shifted) as tfl.SymbolicTensor;
      return tfl.layers.multiply({ name }).apply([x, gate]) as tfl.SymbolicTensor;
    }
    case 'PAD': {
      const paddings = Array.from(
        dequantize(graph.tensors[operator.inputs[1] as number] as TfliteTensor),
      );
      if (paddings.length !== 8 || paddings[0] || paddings[1] || paddings[6] || paddings[7]) {
        throw new UnsupportedTfliteOpError('PAD of the batch or channel axis', operator.index);
      }
      return tfl.layers
        .zeroPadding2d({
          name,
          padding: [
            [paddings[2] as number, paddings[3] as number],
            [paddings[4] as number, paddings[5] as number],
          ],
        })
        .apply(inputOf(0)) as tfl.SymbolicTensor;
    }
    case 'CONCATENATION': {
      const rank = outputTensor.shape.length;
      const axis = options?.int32(0) ?? -1;
      return tfl.layers
        .concatenate({ name, axis: axis < 0 ? axis : axis - rank })
        .apply(operator.inputs.map((_, position) => inputOf(position))) as tfl.SymbolicTensor;
    }
    case 'QUANTIZE':
    case 'DEQUANTIZE':
      // The imported model computes in float32 throughout: (de)quantisation steps are identities.
      return inputOf(0);
    default:
      throw new UnsupportedTfliteOpError(operator.op, operator.index);
  }
}
