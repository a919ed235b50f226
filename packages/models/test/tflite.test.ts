import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage, ImgclsError, toModelInput } from '@imgcls/preprocess';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';
import {
  dequantize,
  IMAGENET_LABELS,
  importTflite,
  parseTflite,
  type Quantization,
  type TfliteOperator,
  type TfliteTensor,
} from '../src/index';
import { directoryHandler } from '../src/node';
import { useWasm } from './setup';
import { buildTflite, convOptions } from './tflite-builder';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return ImgclsError.isInstance(error) ? error.code : `untyped: ${String(error)}`;
  }
  return undefined;
}

// A float model: 3x3 SAME conv (2 filters, RELU6) on a 4x4x1 input, then FULLY_CONNECTED to 3 and SOFTMAX.
const convWeights = Float32Array.from({ length: 2 * 3 * 3 * 1 }, (_, i) => ((i % 5) - 2) / 4);
const denseWeights = Float32Array.from({ length: 3 * 32 }, (_, i) => ((i % 7) - 3) / 10);
function tinyFloatModel(unsupported = false): Uint8Array {
  return buildTflite(
    [
      { shape: [1, 4, 4, 1] },
      { shape: [2, 3, 3, 1], data: convWeights },
      { shape: [2], data: Float32Array.from([0.1, -0.2]) },
      { shape: [1, 4, 4, 2] },
      { shape: [3, 32], data: denseWeights },
      { shape: [3], data: Float32Array.from([0, 0.5, -0.5]) },
      { shape: [1, 3] },
      { shape: [1, 3] },
    ],
    [
      { builtinCode: 3, inputs: [0, 1, 2], outputs: [3], options: convOptions(0, 1, 3) },
      { builtinCode: 9, inputs: [3, 4, 5], outputs: [6] },
      { builtinCode: unsupported ? 28 : 25, inputs: [6], outputs: [7] },
    ],
    [0],
    [7],
  );
}

describe('importTflite', () => {
  beforeAll(useWasm);

  it('imports a float model and computes what the same ops compute in TF.js directly', () => {
    const imported = importTflite(tinyFloatModel());
    expect(imported.quantization).toBe('float');
    expect(imported.ops).toEqual({ CONV_2D: 1, FULLY_CONNECTED: 1, SOFTMAX: 1 });
    const x = tf.tensor4d(
      Float32Array.from({ length: 16 }, (_, i) => i / 8),
      [1, 4, 4, 1],
    );
    const expected = tf.tidy(() => {
      const filter = tf.transpose(tf.tensor4d(convWeights, [2, 3, 3, 1]), [1, 2, 3, 0]);
      const conv = tf.clipByValue(
        tf.add(tf.conv2d(x, filter as tf.Tensor4D, 1, 'same'), tf.tensor1d([0.1, -0.2])),
        0,
        6,
      );
      const logits = tf.add(
        tf.matMul(tf.reshape(conv, [1, 32]), tf.tensor2d(denseWeights, [3, 32]), false, true),
        tf.tensor1d([0, 0.5, -0.5]),
      );
      return tf.softmax(logits);
    });
    const actual = imported.model.predict(x) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]).toBeLessThan(1e-6);
    tf.dispose([x, expected, actual]);
    imported.model.dispose();
  });

  it('imports HARD_SWISH as x · relu6(x + 3) / 6 that survives a save and reload', async () => {
    const bytes = buildTflite(
      [{ shape: [1, 3, 4, 2] }, { shape: [1, 3, 4, 2] }],
      [{ builtinCode: 117, inputs: [0], outputs: [1] }],
      [0],
      [1],
    );
    const imported = importTflite(bytes);
    expect(imported.ops).toEqual({ HARD_SWISH: 1 });
    // Inputs across all three pieces: below −3 (0), between −3 and 3 (quadratic), above 3 (identity).
    const values = Float32Array.from({ length: 24 }, (_, i) => -5.5 + i * (11 / 23));
    const reference = Array.from(values, (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await imported.model.save(
      tf.io.withSaveHandler(async (saved) => {
        artifacts = saved;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
    const x = tf.tensor4d(values, [1, 3, 4, 2]);
    for (const model of [imported.model, reloaded]) {
      const output = model.predict(x) as tf.Tensor;
      const actual = Array.from(output.dataSync());
      output.dispose();
      expect(
        Math.max(...actual.map((value, i) => Math.abs(value - (reference[i] as number)))),
      ).toBeLessThan(1e-6);
    }
    x.dispose();
    imported.model.dispose();
    reloaded.dispose();
  });

  it('names an unsupported operator in its error', () => {
    try {
      importTflite(tinyFloatModel(true));
      expect.unreachable();
    } catch (error) {
      expect(ImgclsError.isInstance(error, 'UNSUPPORTED_TFLITE_OP')).toBe(true);
      expect((error as Error).message).toContain('TANH');
    }
  });

  it('rejects bytes that are not a TFLite model', () => {
    expect(codeOf(() => parseTflite(new Uint8Array(0)))).toBe('INVALID_TFLITE');
    expect(
      codeOf(() => parseTflite(Uint8Array.from({ length: 256 }, (_, i) => (i * 31) % 251))),
    ).toBe('INVALID_TFLITE');
    const other = tinyFloatModel();
    other.set(new TextEncoder().encode('XXXX'), 4);
    expect(codeOf(() => parseTflite(other))).toBe('INVALID_TFLITE');
  });
});

const quantModel = sharedData('mobilenet-v2/mobilenet_v2_1.0_224_quant.tflite');
const perAxisModel = sharedData('mobilenet-v2/tf2_mobilenet_v2_1.0_224_ptq.tflite');
const photos = sharedData('photos');

describe.skipIf(!quantModel || !perAxisModel || !photos)('the real quantised MobileNetV2', () => {
  beforeAll(useWasm);

  /** Top-1 ImageNet label (1001 outputs, background first) of a photo, with its probability. */
  async function top1(
    imported: ReturnType<typeof importTflite>,
    photo: string,
  ): Promise<[string, number]> {
    const image = await decodeImage(join(photos as string, photo));
    const input = toModelInput(image, {
      height: 224,
      width: 224,
      resize: 'center-crop',
      range: imported.inputRange as [number, number],
    });
    const output = imported.model.predict(input) as tf.Tensor;
    const values = Array.from(await output.data());
    tf.dispose([input, output]);
    const best = values.indexOf(Math.max(...values));
    return [IMAGENET_LABELS[best - 1] as string, values[best] as number];
  }

  it('classifies the reference photos as the TFLite interpreter does', async () => {
    for (const path of [quantModel, perAxisModel]) {
      const imported = importTflite(new Uint8Array(readFileSync(path as string)));
      expect(imported.outputUnits).toBe(1001);
      expect(imported.quantization).toBe(path === quantModel ? 'per-tensor' : 'per-axis');
      expect((await top1(imported, 'grace_hopper.bmp'))[0]).toBe('military uniform');
      expect((await top1(imported, 'cat.bmp'))[0]).toMatch(/cat/);
      expect((await top1(imported, 'bird.bmp'))[0]).toBe('chickadee');
      imported.model.dispose();
    }
  });

  it('agrees with an integer-arithmetic evaluation of the first convolution (TFLite quantisation spec)', () => {
    const bytes = new Uint8Array(readFileSync(quantModel as string));
    const graph = parseTflite(bytes);
    const first = graph.operators[0] as TfliteOperator;
    expect(first.op).toBe('CONV_2D');
    const [inputIndex, weightIndex, biasIndex] = first.inputs as number[];
    const input = graph.tensors[inputIndex as number] as TfliteTensor;
    const weights = graph.tensors[weightIndex as number] as TfliteTensor;
    const bias = graph.tensors[biasIndex as number] as TfliteTensor;
    const inputQ = input.quantization as Quantization;
    const weightQ = weights.quantization as Quantization;
    const [filters, kh, kw, channels] = weights.shape as number[];
    const biasValues = new Int32Array(bias.data.slice().buffer as ArrayBuffer);
    // A deterministic uint8 image; the first conv is 3x3, stride 2, SAME on 224x224 (TF pads bottom/right).
    const pixels = Uint8Array.from({ length: 224 * 224 * 3 }, (_, i) => (i * 2654435761) % 256);
    const imported = importTflite(bytes);
    const firstLayer = tfl.model({
      inputs: imported.model.inputs,
      outputs: imported.model.layers[1]?.output as tfl.SymbolicTensor,
    });
    const x = tf.tidy(() =>
      tf.mul(
        tf.sub(tf.tensor4d(pixels, [1, 224, 224, 3], 'float32'), inputQ.zeroPoint[0] as number),
        inputQ.scale[0] as number,
      ),
    );
    const floatOutput = (firstLayer.predict(x) as tf.Tensor).arraySync() as number[][][][];
    let maxError = 0;
    for (const [row, column] of [
      [0, 0],
      [5, 7],
      [55, 100],
      [111, 111],
      [60, 3],
    ] as const) {
      for (let filter = 0; filter < (filters as number); filter++) {
        // acc = Σ (q_in − zp_in)(q_w − zp_w) + q_bias, in exact integers; real = s_in · s_w · acc.
        let accumulator = biasValues[filter] as number;
        for (let dy = 0; dy < (kh as number); dy++) {
          for (let dx = 0; dx < (kw as number); dx++) {
            const y = row * 2 + dy;
            const xPos = column * 2 + dx;
            if (y >= 224 || xPos >= 224) continue;
            for (let c = 0; c < (channels as number); c++) {
              const q = pixels[(y * 224 + xPos) * 3 + c] as number;
              const w = weights.data[
                ((filter * (kh as number) + dy) * (kw as number) + dx) * (channels as number) + c
              ] as number;
              accumulator +=
                (q - (inputQ.zeroPoint[0] as number)) * (w - (weightQ.zeroPoint[0] as number));
            }
          }
        }
        const real = Math.min(
          6,
          Math.max(0, accumulator * (inputQ.scale[0] as number) * (weightQ.scale[0] as number)),
        );
        maxError = Math.max(
          maxError,
          Math.abs(real - (floatOutput[0]?.[row]?.[column]?.[filter] as number)),
        );
      }
    }
    expect(maxError).toBeLessThan(1e-4);
    expect(Array.from(dequantize(bias).slice(0, 2))).toEqual(
      Array.from(biasValues.slice(0, 2), (q) =>
        Math.fround(q * (bias.quantization?.scale[0] as number)),
      ),
    );
    tf.dispose(x);
    imported.model.dispose();
  });

  it('saves the imported model as an ordinary TF.js model that reloads without the importer', async () => {
    const imported = importTflite(new Uint8Array(readFileSync(quantModel as string)));
    const directory = mkdtempSync(join(tmpdir(), 'imgcls-tflite-'));
    await imported.model.save(directoryHandler(directory));
    const reloaded = await tfl.loadLayersModel(directoryHandler(directory));
    const x = tf.randomUniform([1, 224, 224, 3], -1, 1, 'float32', 5);
    const [a, b] = [imported.model.predict(x) as tf.Tensor, reloaded.predict(x) as tf.Tensor];
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    tf.dispose([x, a, b]);
    imported.model.dispose();
    reloaded.dispose();
  });
});
