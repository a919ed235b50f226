import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directoryHandler, writeMetadata } from '@imgcls/models/node';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { loadClassifier, selectBackend } from '../src/index';

// Its own file (a fresh process under vitest's forks pool), so no test has registered wasm-grad's
// replacement kernels before: what explain registers is all there is.
const FORWARD_KERNELS = [
  'Conv2D',
  'FusedConv2D',
  'Sum',
  'Mean',
  'BatchMatMul',
  'Identity',
  'Equal',
];

function wasmKernelFuncs(): readonly unknown[] {
  return FORWARD_KERNELS.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc);
}

/** conv → depthwise conv → conv: explaining the first layer needs wasm's missing depthwise gradient. */
async function savedModel(): Promise<string> {
  const input = tfl.input({ shape: [12, 12, 3] });
  let x = tfl.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'first' })
    .apply(input) as tfl.SymbolicTensor;
  x = tfl.layers
    .depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu' })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'last' })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers
    .dense({ units: 2, activation: 'softmax' })
    .apply(x) as tfl.SymbolicTensor;
  const directory = mkdtempSync(join(tmpdir(), 'imgcls-explain-kernels-'));
  await tfl.model({ inputs: input, outputs: output }).save(directoryHandler(directory));
  await writeMetadata(directory, {
    schemaVersion: 1,
    id: 'kernels',
    name: 'kernels',
    version: '1',
    format: 'layers-model',
    labels: ['a', 'b'],
    output: 'probabilities',
    preset: { height: 12, width: 12, resize: 'stretch', range: [0, 1] },
  });
  return directory;
}

describe('explain on wasm', () => {
  it('registers only missing gradient kernels: the forward kernels stay the stock ones', async () => {
    expect(await selectBackend('wasm')).toBe('wasm');
    const before = wasmKernelFuncs();
    const batchNormGradient = tf.getGradient('FusedBatchNorm');
    expect(tf.getKernel('DepthwiseConv2dNativeBackpropInput', 'wasm')).toBeUndefined();
    const classifier = await loadClassifier(await savedModel(), { backend: 'wasm' });
    const image = {
      data: Uint8Array.from({ length: 12 * 12 * 3 }, (_, i) => (i * 37) % 256),
      width: 12,
      height: 12,
    };
    const explanation = await classifier.explain(image, { layer: 'first' });
    expect(explanation.heatmap.data.length).toBe(144);
    expect(Array.from(explanation.heatmap.data).every(Number.isFinite)).toBe(true);
    expect(wasmKernelFuncs()).toEqual(before);
    expect(tf.getGradient('FusedBatchNorm')).toBe(batchNormGradient);
    expect(tf.getKernel('DepthwiseConv2dNativeBackpropInput', 'wasm')).toBeDefined();
    classifier.dispose();
  });
});
