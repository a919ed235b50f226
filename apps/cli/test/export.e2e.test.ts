import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directoryHandler, writeMetadata } from '@imgcls/models/node';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../tooling/test-data';
import { runCli } from './run-cli';

const SHIPPED = join(REPO_ROOT, 'models/cifar10-seedcnn');

const COLOURS: Record<string, [number, number, number]> = {
  blue: [30, 30, 200],
  green: [30, 200, 30],
  red: [200, 30, 30],
};

describe('imgcls export (spawned binary)', () => {
  let workspace: string;

  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'imgcls-export-'));
    // A tiny image-folder archive: 4 test images per colour class.
    for (const [name, [r, g, b]] of Object.entries(COLOURS)) {
      mkdirSync(join(workspace, 'set', 'test', name), { recursive: true });
      for (let i = 0; i < 4; i++) {
        const jpeg = await sharp({
          create: {
            width: 8,
            height: 8,
            channels: 3,
            background: { r: r + i, g: g + i, b: b + i },
          },
        })
          .jpeg()
          .toBuffer();
        writeFileSync(join(workspace, 'set', 'test', name, `${i}.jpg`), jpeg);
      }
    }
    execFileSync('tar', ['-czf', join(workspace, 'set.tar.gz'), '-C', workspace, 'set']);
    // A model that reads the colour: the mean of each channel, scaled, through a softmax.
    await tf.setBackend('wasm');
    const input = tfl.input({ shape: [8, 8, 3] });
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(input) as tfl.SymbolicTensor;
    const dense = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'predictions' });
    const output = dense.apply(pooled) as tfl.SymbolicTensor;
    // Labels are the sorted class folders: blue, green, red ← channels b, g, r.
    dense.setWeights([
      tf.tensor2d(
        [
          [0, 0, 8],
          [0, 8, 0],
          [8, 0, 0],
        ],
        [3, 3],
      ),
      tf.tensor1d([0, 0, 0]),
    ]);
    const model = tfl.model({ inputs: input, outputs: output });
    await model.save(directoryHandler(join(workspace, 'colours')));
    await writeMetadata(join(workspace, 'colours'), {
      schemaVersion: 1,
      id: 'colours',
      name: 'Colours',
      version: '1',
      format: 'layers-model',
      labels: Object.keys(COLOURS),
      output: 'probabilities',
      preset: { height: 8, width: 8, resize: 'stretch', range: [0, 1] },
    });
  });

  it('quantises a model, measures accuracy before/after on an archive and writes metadata and a card', async () => {
    const result = await runCli(
      [
        'export',
        '--model',
        'colours',
        '--quantize',
        'uint8',
        '--out',
        'colours-uint8',
        '--data',
        'set.tar.gz',
        '--json',
      ],
      workspace,
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.accuracy).toMatchObject({
      images: 12,
      before: 1,
      after: 1,
      changedPredictions: 0,
    });
    expect(report.sizeAfter.weightBytes).toBe(
      statSync(join(workspace, 'colours-uint8', 'weights.bin')).size,
    );
    expect(report.sizeAfter.weightBytes).toBe(12);
    expect(report.sizeBefore.weightBytes).toBe(48);
    const metadata = JSON.parse(
      readFileSync(join(workspace, 'colours-uint8/metadata.json'), 'utf8'),
    );
    expect(metadata).toMatchObject({
      id: 'colours-uint8',
      quantization: { dtype: 'uint8', from: { id: 'colours', version: '1' } },
      metrics: { testAccuracy: 1, sourceTestAccuracy: 1 },
    });
    const card = readFileSync(join(workspace, 'colours-uint8/MODEL_CARD.md'), 'utf8');
    expect(card).toContain('## Quantisation');
    expect(card).toContain(
      'imgcls export --model colours --quantize uint8 --out colours-uint8 --data set.tar.gz',
    );
    expect(card).toMatch(/\| test accuracy \| 100\.00% \| 100\.00% \| \+0\.00 points \|/);
    expect(card).toContain('| weights on disk | 48 B (0.00 MiB) | 12 B (0.00 MiB) | 25.0% |');
    for (const file of ['test-confusion.json', 'test-calibration.json', 'confusion-matrix.svg'])
      expect(existsSync(join(workspace, 'colours-uint8', file)), file).toBe(true);

    // The quantised folder is a model like any other.
    const classified = await runCli(
      ['classify', join('set', 'test', 'red', '0.jpg'), '--model', './colours-uint8', '--json'],
      workspace,
    );
    expect(classified.code, classified.stderr).toBe(0);
    expect(classified.stdout).toContain('"red"');
  });

  it('rejects a bad --quantize, an --out that is the model itself and an unknown model, without writing', async () => {
    const bad = await runCli(
      ['export', '--model', 'colours', '--quantize', 'int4', '--out', 'x'],
      workspace,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown --quantize "int4"');
    const same = await runCli(
      ['export', '--model', 'colours', '--quantize', 'float16', '--out', 'colours'],
      workspace,
    );
    expect(same.code).toBe(2);
    expect(same.stderr).toContain("--out is the model's own folder");
    const unknown = await runCli(
      ['export', '--model', 'no-such-model', '--quantize', 'float16', '--out', 'y'],
      workspace,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/hint: run `imgcls models list`/);
    expect(existsSync(join(workspace, 'x'))).toBe(false);
    expect(existsSync(join(workspace, 'y'))).toBe(false);
  });

  it('halves the shipped seed CNN with float16 and reports its size', async () => {
    const result = await runCli(
      ['export', '--model', SHIPPED, '--quantize', 'float16', '--out', 'seedcnn-f16', '--json'],
      workspace,
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    const floatWeights = statSync(join(SHIPPED, 'weights.bin')).size;
    expect(report.sizeBefore.weightBytes).toBe(floatWeights);
    expect(report.sizeAfter.weightBytes).toBe(floatWeights / 2);
    expect(report.accuracy).toBeUndefined();
    const card = readFileSync(join(workspace, 'seedcnn-f16/MODEL_CARD.md'), 'utf8');
    expect(card).toContain('Accuracy was not measured');
  });
});
