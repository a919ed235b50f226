import { ByteBuffer } from 'flatbuffers';
import { InvalidTfliteError } from './errors';

/**
 * The part of the TFLite flatbuffer schema (tensorflow/lite/schema/schema.fbs) this importer reads,
 * as field ids. A field's vtable slot is 4 + 2·id; unions take two ids (type, then value).
 */
export const FIELDS = {
  Model: { operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 },
  OperatorCode: { deprecatedBuiltinCode: 0, customCode: 1, builtinCode: 3 },
  SubGraph: { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 },
  Tensor: { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4 },
  QuantizationParameters: { scale: 2, zeroPoint: 3, quantizedDimension: 6 },
  Operator: { opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptions: 4 },
  Buffer: { data: 0 },
} as const;

/** A flatbuffer table: typed reads of its fields by id, with the schema's defaults for absent ones. */
export class Table {
  constructor(
    private readonly bb: ByteBuffer,
    private readonly position: number,
  ) {}

  private slot(id: number): number {
    return this.bb.__offset(this.position, 4 + 2 * id);
  }

  has(id: number): boolean {
    return this.slot(id) !== 0;
  }

  int32(id: number, fallback = 0): number {
    const offset = this.slot(id);
    return offset ? this.bb.readInt32(this.position + offset) : fallback;
  }

  uint32(id: number, fallback = 0): number {
    const offset = this.slot(id);
    return offset ? this.bb.readUint32(this.position + offset) : fallback;
  }

  int8(id: number, fallback = 0): number {
    const offset = this.slot(id);
    return offset ? this.bb.readInt8(this.position + offset) : fallback;
  }

  uint8(id: number, fallback = 0): number {
    const offset = this.slot(id);
    return offset ? this.bb.readUint8(this.position + offset) : fallback;
  }

  float32(id: number, fallback = 0): number {
    const offset = this.slot(id);
    return offset ? this.bb.readFloat32(this.position + offset) : fallback;
  }

  bool(id: number, fallback = false): boolean {
    const offset = this.slot(id);
    return offset ? this.bb.readInt8(this.position + offset) !== 0 : fallback;
  }

  string(id: number): string | undefined {
    const offset = this.slot(id);
    return offset ? (this.bb.__string(this.position + offset) as string) : undefined;
  }

  table(id: number): Table | undefined {
    const offset = this.slot(id);
    return offset ? new Table(this.bb, this.bb.__indirect(this.position + offset)) : undefined;
  }

  tables(id: number): Table[] {
    const offset = this.slot(id);
    if (!offset) return [];
    const start = this.bb.__vector(this.position + offset);
    return Array.from(
      { length: this.bb.__vector_len(this.position + offset) },
      (_, index) => new Table(this.bb, this.bb.__indirect(start + index * 4)),
    );
  }

  int32s(id: number): number[] {
    return this.scalars(id, 4, (at) => this.bb.readInt32(at));
  }

  float32s(id: number): number[] {
    return this.scalars(id, 4, (at) => this.bb.readFloat32(at));
  }

  int64s(id: number): number[] {
    return this.scalars(id, 8, (at) => Number(this.bb.readInt64(at)));
  }

  /** A [ubyte] vector as a view into the file's bytes (no copy). */
  bytes(id: number): Uint8Array {
    const offset = this.slot(id);
    if (!offset) return new Uint8Array(0);
    const start = this.bb.__vector(this.position + offset);
    const length = this.bb.__vector_len(this.position + offset);
    return this.bb.bytes().subarray(start, start + length);
  }

  private scalars(id: number, size: number, read: (at: number) => number): number[] {
    const offset = this.slot(id);
    if (!offset) return [];
    const start = this.bb.__vector(this.position + offset);
    return Array.from({ length: this.bb.__vector_len(this.position + offset) }, (_, index) =>
      read(start + index * size),
    );
  }
}

/** The root `Model` table of a TFLite file, after checking its size and `TFL3` identifier. */
export function modelTable(bytes: Uint8Array): Table {
  if (bytes.length < 8)
    throw new InvalidTfliteError(
      'The TFLite file is empty or truncated (shorter than its header).',
    );
  const bb = new ByteBuffer(bytes);
  if (!bb.__has_identifier('TFL3')) {
    throw new InvalidTfliteError(
      'This is not a TFLite model: its flatbuffer identifier is not "TFL3".',
    );
  }
  const root = bb.readInt32(bb.position()) + bb.position();
  if (root <= 0 || root >= bytes.length)
    throw new InvalidTfliteError(
      'The TFLite file is truncated: its root table lies outside the file.',
    );
  return new Table(bb, root);
}
