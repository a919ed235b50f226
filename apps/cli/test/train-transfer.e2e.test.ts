import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directoryHandler, writeMetadata } from '@imgcls/models/node';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

/** A stand-in for a pretrained backbone: 24x24 input, two named conv layers, its own 7-class head. */
async function saveBackbone(directory: string): Promise<void> {
  await tf.setBackend('wasm');
  const input = tfl.input({ shape: [24, 24, 3] });
  let x = input;
  for (const [index, filters] of [8, 16].entries())
    x = tfl.layers
      .conv2d({
        filters,
        kernelSize: 3,
        strides: 2,
        activation: 'relu',
        name: `conv${index + 1}`,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: index }),
      })
      .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers
    .dense({ units: 7, activation: 'softmax', name: 'predictions' })
    .apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output });
  mkdirSync(directory, { recursive: true });
  await model.save(directoryHandler(directory));
  await writeMetadata(directory, {
    schemaVersion: 1,
    id: 'tiny-backbone',
    name: 'tiny backbone',
    version: '1',
    format: 'layers-model',
    architecture: 'tiny',
    labels: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
    output: 'probabilities',
    preset: { height: 24, width: 24, resize: 'stretch', range: [0, 1] },
    embeddingLayer: 'pool',
  });
  model.dispose();
}

describe('imgcls train --arch mobilenetv2: transfer learning (spawned binary)', () => {
  let workspace: string;
  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'imgcls-transfer-'));
    await saveBackbone(join(workspace, 'models', 'tiny-backbone'));
    const colours: Record<string, [number, number, number]> = {
      fern: [30, 180, 40],
      iris: [90, 60, 200],
      tulip: [200, 30, 60],
    };
    for (const split of ['train', 'test']) {
      for (const [name, [r, g, b]] of Object.entries(colours)) {
        mkdirSync(join(workspace, 'flowers', split, name), { recursive: true });
        for (let i = 0; i < (split === 'train' ? 16 : 4); i++) {
          const png = await sharp({
            create: { width: 12, height: 12, channels: 3, background: { r: r - i, g, b: b + i } },
          })
            .png()
            .toBuffer();
          writeFileSync(join(workspace, 'flowers', split, name, `${i}.png`), png);
        }
      }
    }
  });

  it('trains a new head on the backbone, fine-tunes its top, and saves a model classify loads', async () => {
    const trained = await runCli(
      [
        'train',
        '--data',
        'flowers',
        '--arch',
        'mobilenetv2',
        '--backbone',
        'tiny-backbone',
        '--epochs',
        '30',
        '--lr',
        '0.05',
        '--batch-size',
        '8',
        '--fine-tune-from',
        'conv2',
        '--fine-tune-epochs',
        '1',
      ],
      workspace,
    );
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toContain('tiny-backbone backbone');
    expect(trained.stderr).toMatch(/fine-tuning from conv2: 4 trainable weight tensors/);
    expect(trained.stdout).toContain('weighted avg');
    const folder = join(workspace, 'models', 'flowers-mobilenetv2');
    const metadata = JSON.parse(readFileSync(join(folder, 'metadata.json'), 'utf8'));
    expect(metadata).toMatchObject({
      labels: ['fern', 'iris', 'tulip'],
      preset: { height: 24, width: 24 },
      embeddingLayer: 'pool', // already a vector: no extra pooling
    });
    // Three flat colours are separable by any backbone's pooled features.
    expect(metadata.metrics.testAccuracy).toBeGreaterThanOrEqual(0.9);
    const history = readFileSync(join(folder, 'history.jsonl'), 'utf8').trim().split('\n');
    expect(history).toHaveLength(31);
    // The recorded validation accuracy is the fine-tuned model's, as its last epoch measured it.
    expect(metadata.metrics.validationAccuracy).toBe(
      JSON.parse(history.at(-1) as string).validationAccuracy,
    );

    const classified = await runCli(
      ['classify', join('flowers', 'test', 'iris', '0.png'), '--model', folder, '--json'],
      workspace,
    );
    expect(classified.code, classified.stderr).toBe(0);
    expect(classified.stdout).toContain('"label":"iris"');
  });

  it('says how to get a backbone when there is none, and keeps transfer flags to transfer learning', async () => {
    const missing = await runCli(
      ['train', '--data', 'flowers', '--arch', 'mobilenetv2', '--backbone', 'nowhere'],
      workspace,
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('imgcls models import');
    const misplaced = await runCli(
      ['train', '--data', 'flowers', '--arch', 'seedcnn', '--limit', '100'],
      workspace,
    );
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain('--arch mobilenetv2');
  });
});
