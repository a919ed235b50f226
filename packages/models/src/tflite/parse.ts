import { InvalidTfliteError } from './errors';
import { FIELDS, modelTable, type Table } from './schema';

/** Operator names by TFLite builtin code, for the codes this importer knows or reports. */
const OPERATOR_NAMES: Readonly<Record<number, string>> = {
  0: 'ADD',
  1: 'AVERAGE_POOL_2D',
  2: 'CONCATENATION',
  3: 'CONV_2D',
  4: 'DEPTHWISE_CONV_2D',
  6: 'DEQUANTIZE',
  9: 'FULLY_CONNECTED',
  14: 'LOGISTIC',
  17: 'MAX_POOL_2D',
  18: 'MUL',
  19: 'RELU',
  21: 'RELU6',
  22: 'RESHAPE',
  23: 'RESIZE_BILINEAR',
  25: 'SOFTMAX',
  28: 'TANH',
  34: 'PAD',
  40: 'MEAN',
  41: 'SUB',
  43: 'SQUEEZE',
  114: 'QUANTIZE',
  117: 'HARD_SWISH',
};

/** TFLite tensor element types this importer reads, by schema value. */
const TENSOR_TYPES: Readonly<Record<number, TensorType>> = {
  0: 'float32',
  1: 'float16',
  2: 'int32',
  3: 'uint8',
  4: 'int64',
  9: 'int8',
};

/** Element type of a TFLite tensor. */
export type TensorType = 'float32' | 'float16' | 'int32' | 'uint8' | 'int64' | 'int8';

/** Affine quantisation: real = scale · (q − zeroPoint), per tensor or per slice along `axis`. */
export interface Quantization {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly axis: number;
}

/** One tensor of the graph; constants (weights, biases, shapes) carry their bytes. */
export interface TfliteTensor {
  readonly index: number;
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: TensorType;
  /** Raw little-endian bytes for constant tensors; empty for activations. */
  readonly data: Uint8Array;
  readonly quantization?: Quantization;
}

/** One operator: its name, tensor indices, and its options table (read per operator kind). */
export interface TfliteOperator {
  readonly index: number;
  readonly op: string;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly options?: Table;
}

/** The first subgraph of a TFLite model, as plain data. */
export interface TfliteGraph {
  readonly tensors: readonly TfliteTensor[];
  readonly operators: readonly TfliteOperator[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly description?: string;
}

/**
 * Parses a TFLite flatbuffer with the flatbuffers runtime into the tensors and operators of its first
 * subgraph.
 *
 * @throws InvalidTfliteError for empty, truncated or non-TFLite bytes.
 */
export function parseTflite(bytes: Uint8Array): TfliteGraph {
  const model = modelTable(bytes);
  try {
    const buffers = model
      .tables(FIELDS.Model.buffers)
      .map((buffer) => buffer.bytes(FIELDS.Buffer.data));
    const codes = model.tables(FIELDS.Model.operatorCodes).map((code) => {
      // Newer files keep the code in builtin_code; older ones only in the deprecated byte field.
      const builtin = Math.max(
        code.int32(FIELDS.OperatorCode.builtinCode),
        code.int8(FIELDS.OperatorCode.deprecatedBuiltinCode),
      );
      return builtin === 32
        ? `CUSTOM:${code.string(FIELDS.OperatorCode.customCode) ?? '?'}`
        : (OPERATOR_NAMES[builtin] ?? `BUILTIN_${builtin}`);
    });
    const [subgraph] = model.tables(FIELDS.Model.subgraphs);
    if (!subgraph) throw new InvalidTfliteError('The TFLite model has no subgraph.');
    const tensors = subgraph
      .tables(FIELDS.SubGraph.tensors)
      .map((tensor, index) => readTensor(tensor, index, buffers));
    const operators = subgraph.tables(FIELDS.SubGraph.operators).map((operator, index) => ({
      index,
      op: codes[operator.uint32(FIELDS.Operator.opcodeIndex)] ?? 'UNKNOWN',
      inputs: operator.int32s(FIELDS.Operator.inputs),
      outputs: operator.int32s(FIELDS.Operator.outputs),
      ...(operator.has(FIELDS.Operator.builtinOptions)
        ? { options: operator.table(FIELDS.Operator.builtinOptions) as Table }
        : {}),
    }));
    const description = model.string(FIELDS.Model.description);
    return {
      tensors,
      operators,
      inputs: subgraph.int32s(FIELDS.SubGraph.inputs),
      outputs: subgraph.int32s(FIELDS.SubGraph.outputs),
      ...(description ? { description } : {}),
    };
  } catch (error) {
    if (error instanceof InvalidTfliteError) throw error;
    throw new InvalidTfliteError(
      `The TFLite file is corrupt or truncated: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function readTensor(tensor: Table, index: number, buffers: readonly Uint8Array[]): TfliteTensor {
  const typeCode = tensor.int8(FIELDS.Tensor.type);
  const type = TENSOR_TYPES[typeCode];
  if (!type)
    throw new InvalidTfliteError(
      `Tensor #${index} has TFLite type ${typeCode}, which the importer does not read.`,
    );
  const quantizationTable = tensor.table(FIELDS.Tensor.quantization);
  const scale = quantizationTable?.float32s(FIELDS.QuantizationParameters.scale) ?? [];
  const quantization =
    quantizationTable && scale.length > 0
      ? {
          scale,
          zeroPoint: quantizationTable.int64s(FIELDS.QuantizationParameters.zeroPoint),
          axis: quantizationTable.int32(FIELDS.QuantizationParameters.quantizedDimension),
        }
      : undefined;
  return {
    index,
    name: tensor.string(FIELDS.Tensor.name) ?? `tensor_${index}`,
    shape: tensor.int32s(FIELDS.Tensor.shape),
    type,
    data: buffers[tensor.uint32(FIELDS.Tensor.buffer)] ?? new Uint8Array(0),
    ...(quantization ? { quantization } : {}),
  };
}

/**
 * A constant tensor's real values: float32 as stored, integers dequantised with their per-tensor or
 * per-axis scale and zero point (real = scale · (q − zeroPoint)).
 */
export function dequantize(tensor: TfliteTensor): Float32Array {
  const count = tensor.shape.reduce((product, size) => product * size, 1);
  const view = new DataView(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  const width = { float32: 4, float16: 2, int32: 4, uint8: 1, int64: 8, int8: 1 }[tensor.type];
  if (tensor.data.byteLength < count * width) {
    throw new InvalidTfliteError(
      `Constant tensor ${tensor.name} holds ${tensor.data.byteLength} bytes, expected ${count * width}.`,
    );
  }
  const read: (i: number) => number = {
    float32: (i: number) => view.getFloat32(i * 4, true),
    float16: (i: number) => float16ToNumber(view.getUint16(i * 2, true)),
    int32: (i: number) => view.getInt32(i * 4, true),
    uint8: (i: number) => view.getUint8(i),
    int64: (i: number) => Number(view.getBigInt64(i * 8, true)),
    int8: (i: number) => view.getInt8(i),
  }[tensor.type];
  const values = new Float32Array(count);
  const quantization = tensor.quantization;
  if (!quantization || tensor.type === 'float32' || tensor.type === 'float16') {
    for (let i = 0; i < count; i++) values[i] = read(i);
    return values;
  }
  // Per-axis: the slice index along `axis` picks the scale; its stride is the product of later dims.
  const perAxis = quantization.scale.length > 1;
  const inner = perAxis
    ? tensor.shape.slice(quantization.axis + 1).reduce((product, size) => product * size, 1)
    : 1;
  const channels = perAxis ? (tensor.shape[quantization.axis] as number) : 1;
  for (let i = 0; i < count; i++) {
    const channel = perAxis ? Math.floor(i / inner) % channels : 0;
    values[i] =
      (quantization.scale[channel] as number) * (read(i) - (quantization.zeroPoint[channel] ?? 0));
  }
  return values;
}

function float16ToNumber(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
