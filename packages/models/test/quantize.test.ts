import { ImgclsError } from '@imgcls/preprocess';
import * as tfconv from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { affineUint8, channelSpread, float16Bits, quantizeArtifacts } from '../src/index';
import { useWasm } from './setup';

beforeAll(useWasm);

/** The value of a binary16 bit pattern, straight from the IEEE 754 definition (independent of float16Bits). */
function halfValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Every finite non-negative half value, ascending with its bit pattern (0x0000 … 0x7bff). */
const POSITIVE_HALVES = Array.from({ length: 0x7c00 }, (_, bits) => halfValue(bits));

/** Reference rounding: the nearest half by searching the value table; ties go to the even pattern. */
function nearestHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  // 65520 is halfway between 65504 (the largest half) and 2^16, whose pattern would be Infinity's.
  if (magnitude >= 65520) return sign | 0x7c00;
  let low = 0;
  let high = POSITIVE_HALVES.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if ((POSITIVE_HALVES[middle] as number) <= magnitude) low = middle;
    else high = middle - 1;
  }
  if (low === POSITIVE_HALVES.length - 1) return sign | low;
  const below = magnitude - (POSITIVE_HALVES[low] as number);
  const above = (POSITIVE_HALVES[low + 1] as number) - magnitude;
  const nearest = below < above ? low : above < below ? low + 1 : low % 2 === 0 ? low : low + 1;
  return sign | nearest;
}

/** Decodes a weight through TF.js' own loader code, as loadLayersModel/loadGraphModel do. */
function decodeWithTfjs(spec: tf.io.WeightsManifestEntry, bytes: ArrayBuffer): Float32Array {
  const decoded = tf.io.decodeWeights(bytes, [spec]);
  const tensor = decoded[spec.name] as tf.Tensor;
  const values = tensor.dataSync() as Float32Array;
  tensor.dispose();
  return values;
}

/** A float32 one unit in the last place above `value` (value > 0). */
function nextUp(value: number): number {
  const bits = new Uint32Array(Float32Array.of(value).buffer);
  bits[0] = (bits[0] as number) + 1;
  return new Float32Array(bits.buffer)[0] as number;
}

describe('float16Bits', () => {
  it('maps every half value back to its own pattern, and TF.js decodes every pattern to the IEEE value', () => {
    const patterns = Uint16Array.from({ length: 0x10000 }, (_, bits) => bits);
    const decoded = decodeWithTfjs(
      { name: 'all', shape: [0x10000], dtype: 'float32', quantization: { dtype: 'float16' } },
      patterns.buffer,
    );
    const values = Float32Array.from(patterns, halfValue);
    const encoded = float16Bits(values);
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = values[bits] as number;
      if (Number.isNaN(value)) {
        expect(Number.isNaN(decoded[bits] as number)).toBe(true);
        expect(Number.isNaN(halfValue(encoded[bits] as number))).toBe(true);
        continue;
      }
      if (encoded[bits] !== bits) expect(`0x${bits.toString(16)}`).toBe(encoded[bits]);
      if (!Object.is(decoded[bits], value)) expect([bits, decoded[bits]]).toEqual([bits, value]);
    }
  });

  it('rounds to nearest with ties to even, at every midpoint between neighbouring halves and one ulp either side', () => {
    const inputs: number[] = [];
    for (let bits = 0; bits < 0x7bff; bits++) {
      const midpoint =
        ((POSITIVE_HALVES[bits] as number) + (POSITIVE_HALVES[bits + 1] as number)) / 2;
      // Midpoints of neighbouring halves need 12 significant bits: exact in float32.
      expect(Math.fround(midpoint)).toBe(midpoint);
      inputs.push(midpoint, nextUp(midpoint), midpoint > 2 ** -149 ? -nextUp(-midpoint) : 0);
      inputs.push(-midpoint);
    }
    const values = Float32Array.from(inputs);
    const encoded = float16Bits(values);
    let mismatches = 0;
    values.forEach((value, index) => {
      if (encoded[index] !== nearestHalf(value)) mismatches++;
    });
    expect(mismatches).toBe(0);
  });

  it('handles overflow, underflow, float32 subnormals, signed zeros, infinities and NaN', () => {
    const cases: Array<[number, number]> = [
      [65504, 0x7bff],
      [65519.99609375, 0x7bff],
      [65520, 0x7c00],
      [-65520, 0xfc00],
      [1e10, 0x7c00],
      [Number.POSITIVE_INFINITY, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000],
      [nextUp(2 ** -25), 0x0001],
      [3 * 2 ** -25, 0x0002],
      [2 ** -14, 0x0400],
      [2 ** -14 - 2 ** -25, 0x0400],
      [2 ** -149, 0x0000],
      [-(2 ** -149), 0x8000],
      [-0, 0x8000],
      [0, 0x0000],
      [1, 0x3c00],
      [-2, 0xc000],
      [1 / 3, 0x3555],
    ];
    const encoded = float16Bits(Float32Array.from(cases, ([value]) => value));
    expect(Array.from(encoded)).toEqual(cases.map(([, bits]) => bits));
    expect(halfValue(float16Bits(Float32Array.of(Number.NaN))[0] as number)).toBeNaN();
  });

  it('agrees with the reference on random float32 values of every magnitude', () => {
    const bits = new Uint32Array(200_000);
    let state = 12345;
    for (let index = 0; index < bits.length; index++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      // Exponents across float32's whole range, weighted towards binary16's.
      const exponent = index % 2 === 0 ? 97 + (state % 48) : state % 255;
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      bits[index] = ((state & 1) << 31) | (exponent << 23) | (state >>> 9);
    }
    const values = new Float32Array(bits.buffer);
    const encoded = float16Bits(values);
    let mismatches = 0;
    values.forEach((value, index) => {
      if (encoded[index] !== nearestHalf(value)) mismatches++;
    });
    expect(mismatches).toBe(0);
  });
});

describe('affineUint8', () => {
  /** Values as TF.js' loader dequantises them. */
  const dequantized = (values: Float32Array) => {
    const { codes, min, scale } = affineUint8(values);
    return {
      min,
      scale,
      codes,
      decoded: decodeWithTfjs(
        {
          name: 'w',
          shape: [values.length],
          dtype: 'float32',
          quantization: { dtype: 'uint8', min, scale },
        },
        codes.buffer as ArrayBuffer,
      ),
    };
  };

  it('keeps zero exact when the range covers it, with every value within half a step', () => {
    const values = Float32Array.from({ length: 1000 }, (_, index) =>
      index % 10 === 0 ? 0 : Math.sin(index * 12.9898) * 0.37 + 0.1,
    );
    const { decoded, scale } = dequantized(values);
    const lowest = Math.min(...values);
    const highest = Math.max(...values);
    expect(scale).toBeCloseTo((highest - lowest) / 254, 12);
    values.forEach((value, index) => {
      if (value === 0) expect(decoded[index]).toBe(0);
      expect(Math.abs((decoded[index] as number) - value)).toBeLessThanOrEqual(
        scale / 2 + 1e-7 * Math.abs(value),
      );
    });
  });

  it('picks the nearest code for every value (brute force over all 256 codes)', () => {
    const values = Float32Array.from(
      { length: 500 },
      (_, index) => Math.cos(index * 7.31) * 2 - 0.5,
    );
    const { codes, min, scale } = affineUint8(values);
    values.forEach((value, index) => {
      const error = (code: number) => Math.abs(code * scale + min - value);
      const best = Math.min(...Array.from({ length: 256 }, (_, code) => error(code)));
      expect(error(codes[index] as number)).toBeLessThanOrEqual(best + 1e-12);
    });
  });

  it('uses the full 255 steps for a range that does not cover zero', () => {
    const values = Float32Array.from({ length: 256 }, (_, index) => 1 + index / 2550);
    const { decoded, min, scale } = dequantized(values);
    expect(min).toBe(values[0]);
    expect(scale).toBeCloseTo(((values[255] as number) - 1) / 255, 12);
    values.forEach((value, index) => {
      expect(Math.abs((decoded[index] as number) - value)).toBeLessThanOrEqual(scale / 2 + 1e-7);
    });
  });

  it('stores constant and empty tensors exactly, and rejects NaN and infinities with a typed error', () => {
    expect(Array.from(dequantized(new Float32Array(7).fill(-0.25)).decoded)).toEqual(
      new Array(7).fill(-0.25),
    );
    expect(Array.from(dequantized(new Float32Array(3)).decoded)).toEqual([0, 0, 0]);
    expect(affineUint8(new Float32Array(0)).codes.length).toBe(0);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const thrown = (() => {
        try {
          affineUint8(Float32Array.of(1, bad));
        } catch (error) {
          return error;
        }
      })();
      expect(ImgclsError.isInstance(thrown, 'QUANTIZATION_FAILED')).toBe(true);
      expect((thrown as Error).message).toMatch(/float16/);
    }
  });
});

/** Artefacts of a model, as a save handler receives them. */
async function artifactsOf(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved as tf.io.ModelArtifacts;
}

function tinyNet(): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(
    tfl.layers.conv2d({
      inputShape: [8, 8, 3],
      filters: 6,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
      biasInitializer: tfl.initializers.randomNormal({ seed: 4, stddev: 0.1 }),
    }),
  );
  model.add(tfl.layers.flatten());
  model.add(
    tfl.layers.dense({
      units: 4,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }),
    }),
  );
  return model;
}

describe('channelSpread', () => {
  it('compares the largest output channel with the median one, on the axis each layout uses', () => {
    // Dense [in 2, out 3]: channel maxima 1, 2, 8 → 8 / 2.
    expect(channelSpread(Float32Array.of(1, -2, 0.5, 0.5, 1, -8), [2, 3])).toBe(4);
    // Depthwise [1, 1, channels 3, multiplier 1]: the channel axis is the second-to-last.
    expect(channelSpread(Float32Array.of(0.1, -0.2, 3), [1, 1, 3, 1])).toBeCloseTo(15, 5);
    expect(channelSpread(Float32Array.of(5, -7), [2])).toBe(1);
    expect(channelSpread(Float32Array.of(0, 0, 0, 1), [1, 4])).toBe(Number.POSITIVE_INFINITY);
    expect(channelSpread(new Float32Array(4), [2, 2])).toBe(1);
  });
});

describe('quantizeArtifacts', () => {
  it('stores a uint8 tensor with very uneven channels as float16, unless told not to', () => {
    // Dense [in 4, out 3]: the third channel is ~100x the others, whose weights uint8 would crush.
    const values = Float32Array.from({ length: 12 }, (_, index) =>
      index % 3 === 2 ? 100 - index : (index + 1) / 37,
    );
    const artifacts: tf.io.ModelArtifacts = {
      weightSpecs: [
        { name: 'uneven', shape: [4, 3], dtype: 'float32' },
        { name: 'even', shape: [4, 3], dtype: 'float32' },
      ],
      weightData: Uint8Array.from([
        ...new Uint8Array(values.buffer),
        ...new Uint8Array(
          Float32Array.from(values, (value, index) => (index % 3 === 2 ? value / 100 : value))
            .buffer,
        ),
      ]).buffer,
    };
    const mixed = quantizeArtifacts(artifacts, 'uint8');
    expect(mixed.float16Fallback).toEqual(['uneven']);
    expect(mixed.artifacts.weightSpecs?.map((spec) => spec.quantization?.dtype)).toEqual([
      'float16',
      'uint8',
    ]);
    expect(mixed.weightBytes.after).toBe(12 * 2 + 12);
    const decoded = decodeWithTfjs(
      mixed.artifacts.weightSpecs?.[0] as tf.io.WeightsManifestEntry,
      (mixed.artifacts.weightData as ArrayBuffer).slice(0, 24),
    );
    decoded.forEach((value, index) => {
      const original = values[index] as number;
      expect(Math.abs(value - original)).toBeLessThanOrEqual(Math.abs(original) * 2 ** -11);
    });
    const forced = quantizeArtifacts(artifacts, 'uint8', {
      maxChannelSpread: Number.POSITIVE_INFINITY,
    });
    expect(forced.float16Fallback).toEqual([]);
    expect(forced.weightBytes.after).toBe(24);
    expect(quantizeArtifacts(artifacts, 'float16').float16Fallback).toEqual([]);
  });

  it('quantises float32 weights, passes int32/bool/string weights through byte for byte, and TF.js decodes them all', () => {
    const specs: tf.io.WeightsManifestEntry[] = [
      { name: 'a', shape: [3], dtype: 'float32' },
      { name: 'steps', shape: [2], dtype: 'int32' },
      { name: 'flag', shape: [3], dtype: 'bool' },
      { name: 'words', shape: [2], dtype: 'string' },
      { name: 'b', shape: [2, 2], dtype: 'float32', group: 'model' },
    ];
    const text = (word: string) => {
      const bytes = new TextEncoder().encode(word);
      return [...new Uint8Array(Uint32Array.of(bytes.length).buffer), ...bytes];
    };
    const data = Uint8Array.from([
      ...new Uint8Array(Float32Array.of(-1, 0, 2).buffer),
      ...new Uint8Array(Int32Array.of(7, -70000).buffer),
      1,
      0,
      1,
      ...text('cat'),
      ...text('seven'),
      ...new Uint8Array(Float32Array.of(0.5, 0.25, -0.125, 4).buffer),
    ]);
    for (const dtype of ['uint8', 'float16'] as const) {
      const result = quantizeArtifacts({ weightSpecs: specs, weightData: data.buffer }, dtype);
      expect(result.quantized).toEqual(['a', 'b']);
      expect(result.unchanged).toEqual(['steps', 'flag', 'words']);
      const floatBytes = dtype === 'uint8' ? 1 : 2;
      expect(result.weightBytes).toEqual({
        before: data.byteLength,
        after: data.byteLength - 7 * 4 + 7 * floatBytes,
      });
      const outSpecs = result.artifacts.weightSpecs as tf.io.WeightsManifestEntry[];
      expect(outSpecs[4]?.group).toBe('model');
      expect(outSpecs[1]).toEqual(specs[1]);
      const decoded = tf.io.decodeWeights(result.artifacts.weightData as ArrayBuffer, outSpecs);
      const values = Object.fromEntries(
        Object.entries(decoded).map(([name, tensor]) => [name, tensor.dataSync()]),
      );
      tf.dispose(Object.values(decoded));
      expect(Array.from(values.steps as Int32Array)).toEqual([7, -70000]);
      expect(Array.from(values.flag as Uint8Array)).toEqual([1, 0, 1]);
      expect(Array.from(values.words as unknown as string[])).toEqual(['cat', 'seven']);
      expect((values.a as Float32Array)[1]).toBe(0);
      // Exact in float16; within half a step (range / 254 when it covers zero) in uint8.
      for (const [name, original] of [
        ['a', [-1, 0, 2]],
        ['b', [0.5, 0.25, -0.125, 4]],
      ] as const) {
        const halfStep =
          dtype === 'uint8' ? (Math.max(...original) - Math.min(...original)) / 254 / 2 : 0;
        Array.from(values[name] as Float32Array).forEach((value, index) => {
          expect(Math.abs(value - (original[index] as number))).toBeLessThanOrEqual(
            halfStep + 1e-7,
          );
        });
      }
    }
  });

  it('refuses quantised input and weight data that does not match the manifest', () => {
    const spec: tf.io.WeightsManifestEntry = { name: 'w', shape: [2], dtype: 'float32' };
    const cases: Array<[tf.io.ModelArtifacts, RegExp]> = [
      [
        {
          weightSpecs: [{ ...spec, quantization: { dtype: 'float16' } }],
          weightData: new ArrayBuffer(4),
        },
        /already quantised/,
      ],
      [{ weightSpecs: [spec], weightData: new ArrayBuffer(4) }, /ends inside w/],
      [
        { weightSpecs: [spec], weightData: new ArrayBuffer(12) },
        /12 bytes but the manifest describes 8/,
      ],
    ];
    for (const [artifacts, message] of cases) {
      let thrown: unknown;
      try {
        quantizeArtifacts(artifacts, 'uint8');
      } catch (error) {
        thrown = error;
      }
      expect(ImgclsError.isInstance(thrown, 'QUANTIZATION_FAILED')).toBe(true);
      expect((thrown as Error).message).toMatch(message);
    }
    expect(() => quantizeArtifacts({}, 'int4' as never)).toThrow(/choose uint8 or float16/);
  });

  it('gives a layers model that loads with tfl.loadLayersModel and predicts like the float model, without leaking tensors', async () => {
    const model = tinyNet();
    const artifacts = await artifactsOf(model);
    const input = tf.randomUniform([5, 8, 8, 3], 0, 1, 'float32', 7);
    const expected = model.predict(input) as tf.Tensor;
    const expectedValues = expected.arraySync() as number[][];
    for (const [dtype, tolerance] of [
      ['uint8', 0.02],
      ['float16', 0.001],
    ] as const) {
      const before = tf.memory().numTensors;
      const { artifacts: quantized } = quantizeArtifacts(artifacts, dtype);
      const loaded = await tfl.loadLayersModel(tf.io.fromMemory(quantized));
      const output = loaded.predict(input) as tf.Tensor;
      const values = output.arraySync() as number[][];
      output.dispose();
      loaded.dispose();
      expect(tf.memory().numTensors).toBe(before);
      values.forEach((row, index) => {
        row.forEach((probability, k) => {
          expect(Math.abs(probability - (expectedValues[index]?.[k] as number))).toBeLessThan(
            tolerance,
          );
        });
      });
    }
    tf.dispose([input, expected]);
    model.dispose();
  });

  it('gives a graph model that loads with tfconv.loadGraphModel, keeping its int32 constants exact', async () => {
    const weight = Float32Array.from({ length: 12 }, (_, index) => Math.sin(index + 1));
    const bias = Float32Array.of(0.1, -0.2, 0.3, 0);
    const shape = Int32Array.of(-1, 2, 2);
    const graph: tf.io.ModelArtifacts = {
      format: 'graph-model',
      modelTopology: {
        node: [
          {
            name: 'x',
            op: 'Placeholder',
            attr: {
              dtype: { type: 'DT_FLOAT' },
              shape: { shape: { dim: [{ size: '-1' }, { size: '3' }] } },
            },
          },
          {
            name: 'w',
            op: 'Const',
            attr: {
              dtype: { type: 'DT_FLOAT' },
              value: {
                tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '3' }, { size: '4' }] } },
              },
            },
          },
          {
            name: 'b',
            op: 'Const',
            attr: {
              dtype: { type: 'DT_FLOAT' },
              value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '4' }] } } },
            },
          },
          {
            name: 'shape',
            op: 'Const',
            attr: {
              dtype: { type: 'DT_INT32' },
              value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '3' }] } } },
            },
          },
          {
            name: 'mm',
            op: 'MatMul',
            input: ['x', 'w'],
            attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } },
          },
          { name: 'add', op: 'BiasAdd', input: ['mm', 'b'], attr: { T: { type: 'DT_FLOAT' } } },
          {
            name: 'out',
            op: 'Reshape',
            input: ['add', 'shape'],
            attr: { T: { type: 'DT_FLOAT' } },
          },
        ],
        versions: { producer: 1 },
      },
      weightSpecs: [
        { name: 'w', shape: [3, 4], dtype: 'float32' },
        { name: 'b', shape: [4], dtype: 'float32' },
        { name: 'shape', shape: [3], dtype: 'int32' },
      ],
      weightData: Uint8Array.from([
        ...new Uint8Array(weight.buffer),
        ...new Uint8Array(bias.buffer),
        ...new Uint8Array(shape.buffer),
      ]).buffer,
    };
    const input = tf.tensor2d([
      [1, 2, 3],
      [-1, 0.5, 0],
    ]);
    const run = async (artifacts: tf.io.ModelArtifacts) => {
      const model = await tfconv.loadGraphModel(tf.io.fromMemory(artifacts));
      const output = model.predict(input) as tf.Tensor;
      const result = { shape: output.shape, values: Array.from(output.dataSync()) };
      output.dispose();
      model.dispose();
      return result;
    };
    const expected = await run(graph);
    expect(expected.shape).toEqual([2, 2, 2]);
    for (const dtype of ['uint8', 'float16'] as const) {
      const result = quantizeArtifacts(graph, dtype);
      expect(result.unchanged).toEqual(['shape']);
      const actual = await run(result.artifacts);
      expect(actual.shape).toEqual([2, 2, 2]);
      actual.values.forEach((value, index) => {
        expect(Math.abs(value - (expected.values[index] as number))).toBeLessThan(
          dtype === 'uint8' ? 0.03 : 0.005,
        );
      });
    }
    input.dispose();
  });
});
