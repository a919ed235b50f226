import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImgclsError, PRESETS } from '@imgcls/preprocess';
import * as tfconv from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';
import {
  CIFAR10_LABELS,
  directoryHandler,
  type ModelMetadata,
  modelSizeOnDisk,
  parseModelMetadata,
  quantizedMetadata,
  readMetadata,
  saveQuantizedModel,
  seedCnn,
  writeMetadata,
} from '../src/node';
import { useWasm } from './setup';

beforeAll(useWasm);

const METADATA: ModelMetadata = {
  schemaVersion: 1,
  id: 'cifar10-seedcnn',
  name: 'Seed CNN',
  version: '2026-11-24',
  format: 'layers-model',
  architecture: 'seedcnn',
  labels: CIFAR10_LABELS,
  output: 'probabilities',
  preset: PRESETS.cifar10,
  weightsSha256: 'a'.repeat(64),
  metrics: { testAccuracy: 0.7425 },
};

describe('quantisation metadata', () => {
  it('accepts files without a quantization record (older files) and validates one when present', () => {
    expect(parseModelMetadata(METADATA).quantization).toBeUndefined();
    const record = {
      dtype: 'uint8',
      from: { id: 'cifar10-seedcnn', version: '1' },
      weightBytes: { before: 400, after: 100 },
    };
    expect(parseModelMetadata({ ...METADATA, quantization: record }).quantization).toEqual(record);
    for (const broken of [
      'uint8',
      { ...record, dtype: 'int4' },
      { ...record, from: { id: '', version: '1' } },
      { ...record, from: undefined },
      { ...record, weightBytes: { before: -1, after: 1 } },
      { ...record, weightBytes: { before: 1.5, after: 1 } },
      { ...record, float16Fallback: 'w' },
      { ...record, float16Fallback: [''] },
    ]) {
      let thrown: unknown;
      try {
        parseModelMetadata({ ...METADATA, quantization: broken });
      } catch (error) {
        thrown = error;
      }
      expect(ImgclsError.isInstance(thrown, 'INVALID_METADATA'), JSON.stringify(broken)).toBe(true);
    }
  });

  it('derives the quantised model’s metadata: new id and name, provenance, and no float-model measurements', () => {
    const derived = quantizedMetadata(METADATA, {
      dtype: 'float16',
      weightBytes: { before: 8, after: 4 },
    });
    expect(derived).toMatchObject({
      id: 'cifar10-seedcnn-float16',
      name: 'Seed CNN (float16 weights)',
      labels: CIFAR10_LABELS,
      preset: PRESETS.cifar10,
      quantization: {
        dtype: 'float16',
        from: { id: 'cifar10-seedcnn', version: '2026-11-24' },
        weightBytes: { before: 8, after: 4 },
      },
    });
    expect(derived.metrics).toBeUndefined();
    expect(derived.weightsSha256).toBeUndefined();
    expect(
      quantizedMetadata(METADATA, { dtype: 'uint8', weightBytes: { before: 8, after: 2 } }, 'mine')
        .id,
    ).toBe('mine');
  });
});

describe('saveQuantizedModel', () => {
  it('writes a folder TF.js loads, a quarter (uint8) or half (float16) of the weight bytes, with metadata and checksum', async () => {
    const source = mkdtempSync(join(tmpdir(), 'imgcls-quantize-source-'));
    const model = seedCnn({ inputShape: [32, 32, 3], classes: 10, seed: 3 });
    await model.save(directoryHandler(source));
    await writeMetadata(source, METADATA);
    const input = tf.randomUniform([4, 32, 32, 3], -1, 1, 'float32', 11);
    const expected = model.predict(input) as tf.Tensor;
    const expectedValues = expected.dataSync();
    const floatSize = await modelSizeOnDisk(source);
    expect(floatSize.weightBytes).toBe(statSync(join(source, 'weights.bin')).size);
    expect(floatSize.weightBytes).toBe(model.countParams() * 4);

    for (const [dtype, bytesPerWeight, tolerance] of [
      ['uint8', 1, 0.02],
      ['float16', 2, 0.002],
    ] as const) {
      const target = mkdtempSync(join(tmpdir(), `imgcls-quantize-${dtype}-`));
      const saved = await saveQuantizedModel(
        { handler: directoryHandler(source), metadata: await readMetadata(source) },
        target,
        dtype,
      );
      expect(saved.unchanged).toEqual([]);
      expect(saved.float16Fallback).toEqual([]);
      expect(saved.quantized).toHaveLength(model.weights.length);
      expect(saved.sizeOnDisk.weightBytes).toBe(model.countParams() * bytesPerWeight);
      expect(saved.weightBytes).toEqual({
        before: floatSize.weightBytes,
        after: saved.sizeOnDisk.weightBytes,
      });
      const written = await readMetadata(target);
      expect(written).toEqual(saved.metadata);
      expect(written?.id).toBe(`cifar10-seedcnn-${dtype}`);
      expect(written?.quantization?.weightBytes).toEqual(saved.weightBytes);
      expect(written?.weightsSha256).toBe(
        createHash('sha256')
          .update(readFileSync(join(target, 'weights.bin')))
          .digest('hex'),
      );
      const manifest = JSON.parse(readFileSync(join(target, 'model.json'), 'utf8'))
        .weightsManifest[0].weights as tf.io.WeightsManifestEntry[];
      expect(new Set(manifest.map((entry) => entry.quantization?.dtype))).toEqual(new Set([dtype]));

      const before = tf.memory().numTensors;
      const loaded = await tfl.loadLayersModel(directoryHandler(target));
      const output = loaded.predict(input) as tf.Tensor;
      const values = output.dataSync();
      output.dispose();
      loaded.dispose();
      expect(tf.memory().numTensors).toBe(before);
      values.forEach((value, index) => {
        expect(Math.abs(value - (expectedValues[index] as number))).toBeLessThan(tolerance);
      });
    }
    tf.dispose([input, expected]);
    model.dispose();
  });

  it('writes no metadata.json for a source without one, and reports a missing model clearly', async () => {
    const source = mkdtempSync(join(tmpdir(), 'imgcls-quantize-bare-'));
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 1 })] });
    await model.save(directoryHandler(source));
    model.dispose();
    const target = mkdtempSync(join(tmpdir(), 'imgcls-quantize-bare-out-'));
    const saved = await saveQuantizedModel({ handler: directoryHandler(source) }, target, 'uint8');
    expect(saved.metadata).toBeUndefined();
    expect(await readMetadata(target)).toBeUndefined();
    let thrown: unknown;
    try {
      await modelSizeOnDisk(join(source, 'nowhere'));
    } catch (error) {
      thrown = error;
    }
    expect(ImgclsError.isInstance(thrown, 'MODEL_LOAD_FAILED')).toBe(true);
  });
});

const featureVector = sharedData('mobilenet-v2-050-96-feature-vector');

describe.skipIf(!featureVector)('a real graph model (MobileNetV2 0.5/96 feature vector)', () => {
  it('keeps its 1280-d features after quantisation (cosine similarity to float32)', async () => {
    const images = tf.randomUniform([4, 96, 96, 3], 0, 1, 'float32', 21);
    const features = async (directory: string) => {
      const model = await tfconv.loadGraphModel(directoryHandler(directory));
      const output = model.predict(images) as tf.Tensor2D;
      const rows = output.arraySync();
      output.dispose();
      model.dispose();
      return rows;
    };
    const expected = await features(featureVector as string);
    const cosine = (a: number[], b: number[]) => {
      const dot = a.reduce((sum, value, index) => sum + value * (b[index] as number), 0);
      return dot / Math.hypot(...a) / Math.hypot(...b);
    };
    // uint8 is measurably lossy on this network (per-tensor scales, 50+ layers), float16 is not.
    for (const [dtype, minCosine] of [
      ['uint8', 0.95],
      ['float16', 0.9999],
    ] as const) {
      const target = mkdtempSync(join(tmpdir(), `imgcls-quantize-graph-${dtype}-`));
      const saved = await saveQuantizedModel(
        { handler: directoryHandler(featureVector as string) },
        target,
        dtype,
      );
      expect(saved.quantized.length).toBeGreaterThan(50);
      // Batch norm folded into the first depthwise conv leaves channels ~37x apart: float16 keeps them.
      if (dtype === 'uint8')
        expect(saved.float16Fallback).toContain(
          'module/MobilenetV2/expanded_conv/depthwise/depthwise_weights',
        );
      const actual = await features(target);
      const similarities = actual.map((row, index) => cosine(row, expected[index] as number[]));
      console.info(
        `[quantize] MobileNetV2 0.5/96 ${dtype}: weights ${saved.weightBytes.before} → ${saved.weightBytes.after} bytes, feature cosine similarity ≥ ${Math.min(...similarities).toFixed(5)}, ${saved.float16Fallback.length} tensors kept as float16`,
      );
      for (const similarity of similarities) expect(similarity).toBeGreaterThan(minCosine);
    }
    images.dispose();
  });
});
