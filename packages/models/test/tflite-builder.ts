import { Builder } from 'flatbuffers';

/** A tensor of a hand-built TFLite model. */
export interface BuiltTensor {
  shape: number[];
  /** TFLite TensorType: 0 float32, 3 uint8. */
  type?: number;
  /** Constant data (float32 values), or undefined for activations. */
  data?: Float32Array;
}

/** An operator of a hand-built TFLite model; `options` writes its builtin options table. */
export interface BuiltOperator {
  builtinCode: number;
  inputs: number[];
  outputs: number[];
  options?: (builder: Builder) => number;
}

/**
 * Writes a TFLite flatbuffer with the flatbuffers Builder, field by field per schema.fbs, independently of
 * the importer's reader: tests can make small models with chosen operators.
 */
export function buildTflite(
  tensors: BuiltTensor[],
  operators: BuiltOperator[],
  inputs: number[],
  outputs: number[],
  identifier = 'TFL3',
): Uint8Array {
  const builder = new Builder(1024);
  const vectorOfOffsets = (offsets: number[]) => {
    builder.startVector(4, offsets.length, 4);
    for (const offset of [...offsets].reverse()) builder.addOffset(offset);
    return builder.endVector();
  };
  const int32Vector = (values: number[]) => {
    builder.startVector(4, values.length, 4);
    for (const value of [...values].reverse()) builder.addInt32(value);
    return builder.endVector();
  };
  // Buffer 0 is the conventional empty buffer; constants get their own.
  const bufferOffsets: number[] = [];
  builder.startObject(1);
  bufferOffsets.push(builder.endObject());
  const bufferIndex = tensors.map((tensor) => {
    if (!tensor.data) return 0;
    const bytes = new Uint8Array(
      tensor.data.buffer,
      tensor.data.byteOffset,
      tensor.data.byteLength,
    );
    builder.startVector(1, bytes.length, 16);
    for (let i = bytes.length - 1; i >= 0; i--) builder.addInt8(bytes[i] as number);
    const data = builder.endVector();
    builder.startObject(1);
    builder.addFieldOffset(0, data, 0);
    bufferOffsets.push(builder.endObject());
    return bufferOffsets.length - 1;
  });
  const tensorOffsets = tensors.map((tensor, index) => {
    const shape = int32Vector(tensor.shape);
    const name = builder.createString(`t${index}`);
    builder.startObject(5);
    builder.addFieldOffset(0, shape, 0);
    builder.addFieldInt8(1, tensor.type ?? 0, -1);
    builder.addFieldInt32(2, bufferIndex[index] as number, -1);
    builder.addFieldOffset(3, name, 0);
    return builder.endObject();
  });
  const codes = [...new Set(operators.map((operator) => operator.builtinCode))];
  const codeOffsets = codes.map((code) => {
    builder.startObject(4);
    builder.addFieldInt8(0, Math.min(code, 127), -1);
    builder.addFieldInt32(3, code, -1);
    return builder.endObject();
  });
  const operatorOffsets = operators.map((operator) => {
    const operatorInputs = int32Vector(operator.inputs);
    const operatorOutputs = int32Vector(operator.outputs);
    const options = operator.options?.(builder);
    builder.startObject(5);
    builder.addFieldInt32(0, codes.indexOf(operator.builtinCode), -1);
    builder.addFieldOffset(1, operatorInputs, 0);
    builder.addFieldOffset(2, operatorOutputs, 0);
    if (options !== undefined) {
      builder.addFieldInt8(3, 1, -1);
      builder.addFieldOffset(4, options, 0);
    }
    return builder.endObject();
  });
  const tensorVector = vectorOfOffsets(tensorOffsets);
  const inputVector = int32Vector(inputs);
  const outputVector = int32Vector(outputs);
  const operatorVector = vectorOfOffsets(operatorOffsets);
  builder.startObject(5);
  builder.addFieldOffset(0, tensorVector, 0);
  builder.addFieldOffset(1, inputVector, 0);
  builder.addFieldOffset(2, outputVector, 0);
  builder.addFieldOffset(3, operatorVector, 0);
  const subgraph = builder.endObject();
  const codeVector = vectorOfOffsets(codeOffsets);
  const subgraphVector = vectorOfOffsets([subgraph]);
  const bufferVector = vectorOfOffsets(bufferOffsets);
  builder.startObject(5);
  builder.addFieldInt32(0, 3, 0);
  builder.addFieldOffset(1, codeVector, 0);
  builder.addFieldOffset(2, subgraphVector, 0);
  builder.addFieldOffset(4, bufferVector, 0);
  builder.finish(builder.endObject(), identifier);
  return builder.asUint8Array().slice();
}

/** Conv2DOptions with the given padding (0 SAME, 1 VALID), stride and fused activation (3 = RELU6). */
export function convOptions(padding: number, stride: number, activation: number) {
  return (builder: Builder) => {
    builder.startObject(6);
    builder.addFieldInt8(0, padding, 0);
    builder.addFieldInt32(1, stride, 0);
    builder.addFieldInt32(2, stride, 0);
    builder.addFieldInt8(3, activation, 0);
    return builder.endObject();
  };
}
