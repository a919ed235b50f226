import type * as tf from '@tensorflow/tfjs-core';
import { QuantizationError } from '../errors';
import { affineUint8 } from './affine';
import { float16Bits } from './float16';
import { channelSpread } from './spread';

/** How float32 weights are stored: 1-byte per-tensor affine codes, or IEEE half-precision floats. */
export type WeightQuantization = 'uint8' | 'float16';

/** The quantisation types {@link quantizeArtifacts} writes. */
export const WEIGHT_QUANTIZATIONS: readonly WeightQuantization[] = ['uint8', 'float16'];

/**
 * Default {@link QuantizeOptions.maxChannelSpread}: with 255 steps across a tensor, a channel whose
 * weights reach only 1/16 of the largest channel's gets about 8 steps either side of zero (3 bits),
 * where rounding noise stops being small next to its own weights.
 */
export const DEFAULT_MAX_CHANNEL_SPREAD = 16;

/** Options of {@link quantizeArtifacts}. */
export interface QuantizeOptions {
  /**
   * uint8 only: a float32 tensor whose largest output channel is more than this many times larger
   * than its median channel (see {@link channelSpread}) is stored as float16 instead, because one
   * per-tensor uint8 scale would leave its small channels a handful of steps. Batch-norm folded into
   * depthwise convolutions does this (MobileNetV2); TF.js' manifest has no per-channel scales.
   * Default {@link DEFAULT_MAX_CHANNEL_SPREAD}; `Infinity` stores every float32 tensor as uint8.
   */
  readonly maxChannelSpread?: number;
}

/** Model artefacts with quantised weights, and what changed. */
export interface QuantizedArtifacts {
  /** The same model; float32 weights carry a manifest `quantization` entry TF.js' loader decodes. */
  readonly artifacts: tf.io.ModelArtifacts;
  readonly dtype: WeightQuantization;
  /** Names of the float32 tensors now stored quantised. */
  readonly quantized: readonly string[];
  /** uint8 only: the quantised tensors stored as float16 because their channels are too uneven. */
  readonly float16Fallback: readonly string[];
  /** Names of the tensors kept byte for byte (int32, bool, string, complex64). */
  readonly unchanged: readonly string[];
  /** Bytes of weight data before and after. */
  readonly weightBytes: { readonly before: number; readonly after: number };
}

const STRING_LENGTH_BYTES = 4;
const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

function concatenate(parts: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

function joinWeightData(weightData: tf.io.WeightData | undefined): Uint8Array {
  const buffers =
    weightData === undefined ? [] : Array.isArray(weightData) ? weightData : [weightData];
  return concatenate(buffers.map((buffer) => new Uint8Array(buffer)));
}

/** Bytes one manifest entry occupies at `offset` (strings carry a 4-byte length before each value). */
function entryBytes(spec: tf.io.WeightsManifestEntry, data: Uint8Array, offset: number): number {
  const size = spec.shape.reduce((product, dimension) => product * dimension, 1);
  if (spec.dtype !== 'string') {
    const bytesPerValue = BYTES_PER_VALUE[spec.dtype];
    if (bytesPerValue === undefined)
      throw new QuantizationError(`Weight ${spec.name} has unknown dtype "${spec.dtype}".`);
    return size * bytesPerValue;
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let length = 0;
  for (let index = 0; index < size; index++) {
    if (offset + length + STRING_LENGTH_BYTES > data.byteLength) break;
    length += STRING_LENGTH_BYTES + view.getUint32(offset + length, true);
  }
  return length;
}

/**
 * Quantises a TF.js model's float32 weights (layers or graph model artefacts) to `uint8` (per-tensor
 * affine, zero exact, see {@link affineUint8}; tensors with very uneven channels as float16, see
 * {@link QuantizeOptions}) or `float16` (IEEE half, round to nearest even). Other dtypes pass through
 * unchanged. The result loads with TF.js' own loaders, which dequantise to float32
 * while reading the weights: nothing else changes for the code that uses the model.
 *
 * @throws QuantizationError when the model is already quantised, the weight bytes do not match the
 *   manifest, or (uint8) a weight is NaN or infinite.
 */
export function quantizeArtifacts(
  artifacts: tf.io.ModelArtifacts,
  dtype: WeightQuantization,
  options: QuantizeOptions = {},
): QuantizedArtifacts {
  const maxChannelSpread = options.maxChannelSpread ?? DEFAULT_MAX_CHANNEL_SPREAD;
  if (!WEIGHT_QUANTIZATIONS.includes(dtype))
    throw new QuantizationError(
      `Unknown quantisation "${dtype}": choose ${WEIGHT_QUANTIZATIONS.join(' or ')}.`,
    );
  const specs = artifacts.weightSpecs ?? [];
  const data = joinWeightData(artifacts.weightData);
  const parts: Uint8Array[] = [];
  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  const quantized: string[] = [];
  const float16Fallback: string[] = [];
  const unchanged: string[] = [];
  let offset = 0;
  for (const spec of specs) {
    if (spec.quantization)
      throw new QuantizationError(
        `Weight ${spec.name} is already quantised (${spec.quantization.dtype}): quantise the float32 model instead.`,
      );
    const length = entryBytes(spec, data, offset);
    if (offset + length > data.byteLength)
      throw new QuantizationError(
        `The weight data ends inside ${spec.name} (${data.byteLength} bytes for a manifest that needs more): the model's weight files are truncated or do not belong to its model.json.`,
      );
    const bytes = data.slice(offset, offset + length);
    offset += length;
    if (spec.dtype !== 'float32') {
      parts.push(bytes);
      outSpecs.push(spec);
      unchanged.push(spec.name);
      continue;
    }
    const values = new Float32Array(bytes.buffer);
    const asFloat16 = dtype === 'float16' || channelSpread(values, spec.shape) > maxChannelSpread;
    if (asFloat16) {
      if (dtype === 'uint8') float16Fallback.push(spec.name);
      parts.push(new Uint8Array(float16Bits(values).buffer));
      outSpecs.push({ ...spec, quantization: { dtype: 'float16' } });
    } else {
      const { codes, min, scale } = affineUint8(values, `Weight ${spec.name}`);
      parts.push(codes);
      outSpecs.push({ ...spec, quantization: { dtype: 'uint8', min, scale } });
    }
    quantized.push(spec.name);
  }
  if (offset !== data.byteLength)
    throw new QuantizationError(
      `The weight data has ${data.byteLength} bytes but the manifest describes ${offset}: the weight files do not belong to this model.json.`,
    );
  const weightData = concatenate(parts);
  return {
    artifacts: {
      ...artifacts,
      weightSpecs: outSpecs,
      weightData: weightData.buffer as ArrayBuffer,
    },
    dtype,
    quantized,
    float16Fallback,
    unchanged,
    weightBytes: { before: data.byteLength, after: weightData.byteLength },
  };
}
